/**
 * Which dependency an error says is unreachable, so the problem filter answers 503 with
 * Retry-After instead of 500 (docs/decisions/0026-dependency-outages-answer-503.md).
 *
 * Recognised by name, message and code rather than `instanceof`: the errors come from pg,
 * pg-pool, TypeORM (which wraps pg's as `driverError`) and ioredis, and this library depends on
 * none of them. Only errors that mean "the server cannot be reached or the connection was lost"
 * are classified; a query or command the server refused (bad SQL, a constraint, WRONGTYPE) stays
 * a 500, because retrying it would not help.
 */
export type Dependency = 'postgres' | 'redis';

/** Node socket errors: on the request path only pg surfaces them (ioredis reports its socket errors as events). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNABORTED']);

/** SQLSTATE class 08 (connection exception), and the server going away or refusing connections. */
const POSTGRES_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);

const POSTGRES_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
];

const REDIS_MESSAGES = ['Connection is closed.', "Stream isn't writeable and enableOfflineQueue options is false", 'Command timed out'];

/** The unreachable dependency an error (or one of its causes, or TypeORM's `driverError`) reports, if any. */
export function unreachableDependency(error: unknown): Dependency | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && !seen.has(current)) {
    seen.add(current);
    const found = classify(current as { name?: unknown; message?: unknown; code?: unknown; errors?: unknown });
    if (found !== undefined) return found;
    const { driverError, cause, errors } = current as { driverError?: unknown; cause?: unknown; errors?: unknown };
    // AggregateError (net's happy-eyeballs connect to several addresses): any member decides.
    if (Array.isArray(errors)) for (const member of errors as unknown[]) if (unreachableDependency(member) !== undefined) return unreachableDependency(member);
    current = driverError ?? cause;
  }
  return undefined;
}

function classify(error: { name?: unknown; message?: unknown; code?: unknown }): Dependency | undefined {
  const name = typeof error.name === 'string' ? error.name : '';
  const message = typeof error.message === 'string' ? error.message : '';
  const code = typeof error.code === 'string' ? error.code : '';
  if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.includes(message)) return 'redis';
  if (POSTGRES_MESSAGES.includes(message)) return 'postgres';
  if (/^[0-9A-Z]{5}$/.test(code) && (code.startsWith('08') || POSTGRES_SQLSTATES.has(code))) return 'postgres';
  if (NETWORK_CODES.has(code)) return 'postgres';
  return undefined;
}
