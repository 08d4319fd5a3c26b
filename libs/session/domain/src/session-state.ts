/** The seed's session value, stored as JSON at `session:{sessionId}` (docs/database.md, "Session Storage"). */
export interface SessionState {
  readonly sessionId: string;
  readonly type: string;
  readonly msisdn: string;
  readonly data: Record<string, unknown>;
  /** ISO-8601 timestamps, as in the seed's example. */
  readonly createdAt: string;
  readonly lastActivityAt: string;
  readonly isActive: boolean;
}

export const DEFAULT_SESSION_TTL_SECONDS = 3600;

export function sessionKey(sessionId: string): string {
  return `session:${sessionId}`;
}

const FIELDS = ['sessionId', 'type', 'msisdn', 'data', 'createdAt', 'lastActivityAt', 'isActive'] as const;

/**
 * Parses a stored session value. Anything else (missing or extra fields, wrong types,
 * bad timestamps) is refused with the reason, so corrupt data never reaches a workflow.
 */
export function parseSessionState(json: string): SessionState {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new SessionStateError('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new SessionStateError('not an object');
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => !(FIELDS as readonly string[]).includes(k));
  if (extra.length > 0) throw new SessionStateError(`unexpected field(s): ${extra.join(', ')}`);
  for (const field of ['sessionId', 'type', 'msisdn', 'createdAt', 'lastActivityAt'] as const) {
    if (typeof record[field] !== 'string' || record[field] === '') throw new SessionStateError(`${field} must be a non-empty string`);
  }
  for (const field of ['createdAt', 'lastActivityAt'] as const) {
    if (Number.isNaN(Date.parse(record[field] as string))) throw new SessionStateError(`${field} must be an ISO-8601 timestamp`);
  }
  if (typeof record['data'] !== 'object' || record['data'] === null || Array.isArray(record['data'])) throw new SessionStateError('data must be an object');
  if (typeof record['isActive'] !== 'boolean') throw new SessionStateError('isActive must be a boolean');
  return record as unknown as SessionState;
}

export class SessionStateError extends Error {
  constructor(reason: string) {
    super(`invalid session state: ${reason}`);
    this.name = 'SessionStateError';
  }
}
