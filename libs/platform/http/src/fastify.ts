import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { PlatformConfig } from '@ussd/platform-config';
import { type Logger, runWithRequestContext } from '@ussd/platform-logging';
import { answerAfterBody, discardLimitsFor } from './body-drain.js';

const REQUEST_ID_HEADER = 'x-request-id';
/** A caller's request id is kept only if it is short and plain, so it cannot forge log lines. */
const SAFE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** `POST /ussd/{gateway}/{token}`: the path token is a secret and never reaches a log line. */
const PATH_TOKEN = /^(\/ussd\/[^/?#]*\/)[^?#]*/;

/** A request URL as it may be logged: a gateway's path token is replaced by `[redacted]`. */
export function loggableUrl(url: string): string {
  return url.replace(PATH_TOKEN, '$1[redacted]');
}

/**
 * The Fastify adapter every app uses: body limit from config, a request id per request
 * (the caller's X-Request-Id when it is safe, otherwise a new UUID), echoed in the
 * response and stamped on every log line of the request, and one log line per response.
 * An answer given before the request body was read (a 413) goes out once the body has been
 * read and dropped (body-drain.ts). `isDraining` turns keep-alive off during a graceful shutdown.
 */
export function createFastifyAdapter(config: PlatformConfig, logger: Logger, isDraining: () => boolean = () => false): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: config.http.bodyLimitBytes,
    logger: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    requestIdHeader: false,
    // request.ip is X-Forwarded-For's client only behind the configured proxies, never by default.
    trustProxy: config.trustedProxies.length > 0 ? [...config.trustedProxies] : false,
    // Ids in paths may be 255 characters (execution ids); longer segments get 414.
    routerOptions: { maxParamLength: 300 },
    // Errors Fastify raises before routing (bad URL encoding, over-long path segments) are
    // problem+json too, like everything Nest answers.
    frameworkErrors: (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
      const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      void reply
        .status(status)
        .header('content-type', 'application/problem+json; charset=utf-8')
        .header(REQUEST_ID_HEADER, request.id)
        .send({ type: 'about:blank', title: status === 414 ? 'URI too long' : 'Bad request', status, detail: error.message.slice(0, 200), requestId: request.id });
    },
    genReqId: (req: IncomingMessage) => {
      const given = req.headers[REQUEST_ID_HEADER];
      return typeof given === 'string' && SAFE_REQUEST_ID.test(given) ? given : randomUUID();
    },
  });
  const fastify = adapter.getInstance();
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header(REQUEST_ID_HEADER, request.id);
    runWithRequestContext({ requestId: request.id }, done);
  });
  // An answer given before the body was read (413 over the limit) waits for the body, read and
  // dropped (at most HTTP_BODY_LIMIT_BYTES + 16 MiB, for 10 s), so the client receives it rather than a reset.
  fastify.addHook('onSend', answerAfterBody(discardLimitsFor(config.http.bodyLimitBytes)));
  // While draining, every response asks the client to drop its keep-alive connection,
  // so the server can close as soon as in-flight requests finish.
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    if (isDraining()) void reply.header('connection', 'close');
    done(null, payload);
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    const quiet = request.url.startsWith('/health/');
    logger[quiet ? 'debug' : 'info'](
      { requestId: request.id, method: request.method, url: loggableUrl(request.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request completed',
    );
    done();
  });
  return adapter;
}
