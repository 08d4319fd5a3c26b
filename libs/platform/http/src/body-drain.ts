import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';

/**
 * How much of a request body the server reads and throws away, after it has decided to refuse the
 * request (413 over HTTP_BODY_LIMIT_BYTES, or any answer given before the body was read), so that
 * the client has finished sending when the answer goes out and reads it instead of a reset
 * (docs/decisions/0027-body-limits-answered-not-reset.md). Nothing is kept: every chunk is dropped
 * as it arrives.
 */
export const BODY_DISCARD_LIMITS = {
  /** At most this many bytes more than HTTP_BODY_LIMIT_BYTES are read and dropped; a longer body gets its answer and the connection is closed. */
  beyondLimitBytes: 16 * 1024 * 1024,
  /** At most this long is spent reading them; a slower client gets its answer and the connection is closed. */
  timeoutMs: 10_000,
} as const;

/** The bounds for a server whose body limit is `bodyLimitBytes`. */
export interface DiscardLimits {
  readonly maxBytes: number;
  readonly timeoutMs: number;
}

/** HTTP_BODY_LIMIT_BYTES plus 16 MiB, for 10 s. */
export function discardLimitsFor(bodyLimitBytes: number): DiscardLimits {
  return { maxBytes: bodyLimitBytes + BODY_DISCARD_LIMITS.beyondLimitBytes, timeoutMs: BODY_DISCARD_LIMITS.timeoutMs };
}

/** What `discardUnreadBody` did: the whole body was read (the connection may stay open), or it gave up. */
export type DiscardOutcome = 'drained' | 'too-long' | 'too-slow' | 'aborted';

/**
 * Reads and drops the rest of a request body, bounded by `limits`. Resolves when the body has
 * ended, when the client went away, or when a bound is reached (the caller then closes the
 * connection). A declared Content-Length over the byte bound gives up at once, without reading.
 */
export function discardUnreadBody(raw: IncomingMessage, limits: DiscardLimits): Promise<DiscardOutcome> {
  if (raw.complete || raw.readableEnded) return Promise.resolve('drained');
  const declared = Number(raw.headers['content-length']);
  if (Number.isFinite(declared) && declared > limits.maxBytes) return Promise.resolve('too-long');
  const socket = raw.socket;
  return new Promise<DiscardOutcome>((resolve) => {
    let dropped = 0;
    const finish = (outcome: DiscardOutcome): void => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', onEnd);
      raw.off('error', onAbort);
      socket.off('close', onAbort);
      resolve(outcome);
    };
    const onData = (chunk: Buffer | string): void => {
      dropped += chunk.length;
      if (dropped > limits.maxBytes) finish('too-long');
    };
    const onEnd = (): void => finish('drained');
    const onAbort = (): void => finish('aborted');
    const timer = setTimeout(() => finish('too-slow'), limits.timeoutMs);
    timer.unref();
    raw.on('data', onData);
    raw.once('end', onEnd);
    raw.once('error', onAbort);
    socket.once('close', onAbort);
    raw.resume();
  });
}

/**
 * A Fastify `onSend` hook: an answer given while the request body is still arriving (a 413 over
 * the body limit) waits until the body is read and dropped within `limits`, then keeps the
 * connection open for the next request (unless the client asked to close it). Past a bound the
 * answer goes out with `Connection: close` and the connection is closed.
 */
export function answerAfterBody(limits: DiscardLimits) {
  return (request: FastifyRequest, reply: FastifyReply, payload: unknown, done: (error: Error | null, payload?: unknown) => void): void => {
    const raw = request.raw;
    if (raw.complete || raw.readableEnded) {
      done(null, payload);
      return;
    }
    void discardUnreadBody(raw, limits).then((outcome) => {
      // Fastify asks to close after a body it could not parse; once it is read there is no need.
      if (outcome === 'drained') {
        if (String(reply.getHeader('connection') ?? '').toLowerCase() === 'close' && raw.headers.connection?.toLowerCase() !== 'close') void reply.removeHeader('connection');
      } else {
        void reply.header('connection', 'close');
      }
      done(null, payload);
    });
  };
}

/** A body in a route's own format, for the errors Fastify raises before the handler runs. */
export interface RenderedError {
  readonly contentType: string;
  readonly body: string;
}

/**
 * Renders the errors raised before a route's handler runs (413 body too large, 415, malformed
 * body) in the route's own format; `undefined` leaves them problem+json.
 */
export type FrameworkErrorRenderer = (status: number, request: FastifyRequest) => RenderedError | undefined;

const FRAMEWORK_ERROR_RENDERER = 'frameworkErrorRenderer';

/**
 * Route decorator: the errors Fastify raises before this route's handler (body over
 * HTTP_BODY_LIMIT_BYTES, unparseable body) are answered by `render` rather than as problem+json,
 * for callers that only understand their own format (the USSD gateways).
 */
export const RenderFrameworkErrors = (render: FrameworkErrorRenderer): MethodDecorator & ClassDecorator => RouteConfig({ [FRAMEWORK_ERROR_RENDERER]: render });

/** The route's renderer for framework errors, if it has one. */
export function frameworkErrorRenderer(request: FastifyRequest | undefined): FrameworkErrorRenderer | undefined {
  const config = (request as { routeOptions?: { config?: Record<string, unknown> } } | undefined)?.routeOptions?.config;
  const render = config?.[FRAMEWORK_ERROR_RENDERER];
  return typeof render === 'function' ? (render as FrameworkErrorRenderer) : undefined;
}
