import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, HttpStatus } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { Logger } from '@ussd/platform-logging';
import { frameworkErrorRenderer } from './body-drain.js';
import { type Dependency, unreachableDependency } from './dependency-errors.js';

/**
 * One problem, located by a JSON pointer (RFC 6901). The one shape of every error list the
 * APIs answer: request validation here, and the spec validator's errors (`SpecError`), so a
 * client reads `{ pointer, code, message }` everywhere.
 */
export interface InvalidParam {
  /**
   * RFC 6901 pointer into the part named by `in`: `/name` in the body, `/limit` in the query,
   * `/workflowId` among the path parameters ('' for a whole body). Spec errors carry no `in`
   * and point into the workflow spec document.
   */
  readonly pointer: string;
  /** Stable, kebab-case: `unknown-parameter`, `invalid-type`, `too-small`, or a spec code such as `unknown-node`. */
  readonly code: string;
  /** For people. */
  readonly message: string;
  /** Which part of the request: body, query, path parameters or a header. */
  readonly in?: 'body' | 'query' | 'path' | 'header';
}

/** RFC 9457 problem details, the body of every error response. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: readonly InvalidParam[];
  readonly errorId?: string;
  readonly requestId?: string;
  readonly [extension: string]: unknown;
}

export interface ProblemInput {
  readonly type: string;
  readonly title: string;
  readonly status?: number;
  readonly detail?: string;
  readonly errors?: readonly InvalidParam[];
  readonly [extension: string]: unknown;
}

/**
 * Throw this (or a subclass) from any layer to answer with a specific problem.
 * Domain exceptions extend it with their own `type` and status.
 */
export class ProblemException extends HttpException {
  constructor(readonly problem: ProblemInput) {
    super(problem, problem.status ?? HttpStatus.BAD_REQUEST);
  }
}

export class ValidationProblem extends ProblemException {
  constructor(errors: readonly InvalidParam[], detail = 'The request is not valid.') {
    super({ type: 'urn:problem:validation', title: 'Invalid request', status: 400, detail, errors });
  }
}

const FASTIFY_ERRORS: Readonly<Record<string, { status: number; title: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, title: 'Request body too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, title: 'Invalid Content-Length' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, title: 'Empty JSON body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, title: 'Malformed JSON body' },
};

/** An error Fastify raised before the handler (FST_ERR_*), as it is or as Nest wraps it in an HttpException. */
function isFrameworkError(exception: unknown): boolean {
  const isFastify = (error: unknown): boolean => typeof (error as { code?: unknown } | null)?.code === 'string' && String((error as { code: string }).code).startsWith('FST_');
  return isFastify(exception) || (exception instanceof HttpException && isFastify(exception.cause));
}

function titleFor(status: number): string {
  const name = HttpStatus[status];
  if (typeof name !== 'string') return 'Error';
  return name.charAt(0) + name.slice(1).toLowerCase().replaceAll('_', ' ');
}

/** What a client is told to wait before retrying a request that met an unreachable dependency. */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

/** At most one log line per dependency this often while it stays unreachable (the next one counts what it left out). */
const OUTAGE_LOG_EVERY_MS = 5000;

const DEPENDENCY_NAMES: Readonly<Record<Dependency, string>> = { postgres: 'PostgreSQL', redis: 'Redis' };

/**
 * Every error becomes `application/problem+json`. Known errors keep their status and a
 * useful detail; an error that says PostgreSQL or Redis is unreachable is a 503
 * `urn:problem:dependency-unavailable` naming it, with Retry-After (docs/decisions/0026);
 * anything else is a 500 whose body carries only an `errorId` that appears in the log next
 * to the stack trace, which never leaves the server.
 */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly outages = new Map<Dependency, { loggedAt: number; suppressed: number }>();

  constructor(private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const problem = this.toProblem(exception, request);
    // A route with its own format (a USSD gateway's) answers Fastify's errors in it.
    const render = isFrameworkError(exception) ? frameworkErrorRenderer(request) : undefined;
    const rendered = render?.(problem.status, request);
    if (rendered !== undefined) {
      void reply.status(problem.status).header('content-type', rendered.contentType).header('cache-control', 'no-store').send(rendered.body);
      return;
    }
    const body: ProblemDetails = { ...problem, instance: request.url.split('?')[0], requestId: String(request.id) };
    if (typeof problem['retryAfterSeconds'] === 'number') void reply.header('retry-after', String(problem['retryAfterSeconds']));
    void reply.status(body.status).header('content-type', 'application/problem+json; charset=utf-8').send(body);
  }

  private toProblem(exception: unknown, request: FastifyRequest): ProblemDetails {
    if (exception instanceof ProblemException) {
      return { ...exception.problem, status: exception.getStatus() };
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      if (typeof response === 'string') return { type: 'about:blank', title: titleFor(status), status, detail: response };
      // Nest's own shape is { statusCode, message, error: 'Not Found' }; anything else an
      // exception carries (terminus's check results, say) travels as extension members.
      const { statusCode: _code, message, error, status: _status, ...extensions } = response as Record<string, unknown>;
      const detail = Array.isArray(message) ? message.join('; ') : typeof message === 'string' ? message : exception.message;
      return {
        type: 'about:blank',
        title: titleFor(status),
        ...extensions,
        ...(error !== undefined && typeof error !== 'string' ? { error } : {}),
        status,
        detail: typeof extensions['detail'] === 'string' ? extensions['detail'] : detail,
      };
    }
    const fastify = exception as { code?: unknown; statusCode?: unknown; message?: unknown };
    if (typeof fastify.code === 'string' && fastify.code.startsWith('FST_')) {
      const known = FASTIFY_ERRORS[fastify.code];
      const status = known?.status ?? (typeof fastify.statusCode === 'number' && fastify.statusCode < 500 ? fastify.statusCode : 400);
      return { type: 'about:blank', title: known?.title ?? titleFor(status), status, detail: String(fastify.message ?? '') };
    }
    if (exception instanceof SyntaxError && (exception as { statusCode?: unknown }).statusCode === 400) {
      return { type: 'about:blank', title: 'Malformed JSON body', status: 400, detail: exception.message };
    }
    const dependency = unreachableDependency(exception);
    if (dependency !== undefined) {
      this.logOutage(dependency, exception, request);
      return {
        type: 'urn:problem:dependency-unavailable',
        title: 'Dependency unavailable',
        status: 503,
        detail: `${DEPENDENCY_NAMES[dependency]} is unreachable, so the request could not be served; retry after ${DEPENDENCY_RETRY_AFTER_SECONDS} s (Retry-After). GET /health/ready says what is down.`,
        dependency,
        retryAfterSeconds: DEPENDENCY_RETRY_AFTER_SECONDS,
      };
    }
    const errorId = randomUUID();
    this.logger.error({ err: exception, errorId }, 'unhandled error');
    return { type: 'about:blank', title: 'Internal server error', status: 500, detail: 'An unexpected error occurred. Quote the errorId when reporting it.', errorId };
  }

  /**
   * One warn line per failure, at most one per dependency every OUTAGE_LOG_EVERY_MS (an outage
   * under load would otherwise write a line per request); the next line counts the ones left out.
   * Only the error's code or name is logged: a driver's message may carry a host and port.
   */
  private logOutage(dependency: Dependency, exception: unknown, request: FastifyRequest): void {
    const now = Date.now();
    const state = this.outages.get(dependency) ?? { loggedAt: 0, suppressed: 0 };
    this.outages.set(dependency, state);
    if (now - state.loggedAt < OUTAGE_LOG_EVERY_MS) {
      state.suppressed += 1;
      return;
    }
    const { code, name } = exception as { code?: unknown; name?: unknown };
    const reason = typeof code === 'string' && code !== '' ? code : typeof name === 'string' ? name : 'unknown';
    this.logger.warn(
      { dependency, reason, method: request.method, route: request.routeOptions.url ?? request.url.split('?')[0], suppressed: state.suppressed },
      `dependency unavailable: ${DEPENDENCY_NAMES[dependency]} is unreachable, answered 503 with Retry-After (${state.suppressed} more such answers since the last line)`,
    );
    state.loggedAt = now;
    state.suppressed = 0;
  }
}
