/**
 * The error a node raises: a stable code that `retry` and `catch` patterns match
 * (docs/workflow-spec.md, "Error codes"), a message for people, optional details for the logs.
 * Handlers throw it; anything else a handler throws becomes `node.internal`.
 */
export class NodeError extends Error {
  override readonly name = 'NodeError';
  constructor(
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

/** Codes the engine adds to the spec's list; stable, documented in docs/execution-engine.md. */
export const ENGINE_ERROR_CODES = {
  /** A handler threw something other than a NodeError: a bug, reported rather than crashing. */
  nodeInternal: 'node.internal',
  /** The URL or a header did not make a valid request (not http/https, a newline in a header). */
  httpInvalidRequest: 'http.invalid_request',
  /** The response body passed the client's `maxResponseBytes`. */
  httpResponseTooLarge: 'http.response_too_large',
  /**
   * The URL's host is, or resolves to, an address that is not public (loopback, private,
   * link-local, ...) and the allowlist does not admit it: refused before any connection.
   */
  httpForbiddenAddress: 'http.forbidden_address',
  /** Subworkflows nested deeper than the engine's limit (a workflow calling itself, say). */
  subworkflowDepth: 'subworkflow.depth_exceeded',
  /** The SubworkflowResolver threw (its store is down, say): unlike not_found, worth a retry. */
  subworkflowUnavailable: 'subworkflow.unavailable',
  canceled: 'execution.canceled',
  /** The spec names a secret (`secrets.NAME`) its workflow's team does not have: set it, or change the spec. */
  secretsUnknown: 'secrets.unknown',
  /** Secrets could not be read: no SECRETS_KEYS, a key version no longer configured, an altered row, the store down. */
  secretsUnavailable: 'secrets.unavailable',
  /** The event sink threw or rejected: the execution stops rather than run without logs. */
  eventsUnavailable: 'events.unavailable',
  /** The spec is not runnable as given (an edge to a missing node, no handler for a type, no trigger to enter by). */
  invalidSpec: 'execution.invalid_spec',
  /** The trigger payload or session is not JSON (a cycle, a BigInt). */
  invalidTrigger: 'execution.invalid_trigger',
  /** resume() got a continuation that is malformed or belongs to another workflow version. */
  invalidContinuation: 'continuation.invalid',
  /** A bug in the engine itself; the execution still ends, and the message says where. */
  internal: 'engine.internal',
} as const;

export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'object' && error !== null && typeof (error as { message?: unknown }).message === 'string') {
    return (error as { message: string }).message;
  }
  return String(error);
}
