import type { SessionState } from './session-state.js';

/** A session as stored, with the revision that guards the next write (compare-and-set). */
export interface StoredSession {
  readonly state: SessionState;
  /** Opaque; changes on every write. Pass it back to `commit` to write only over what was read. */
  readonly revision: string;
}

/** What `acquire` found: the session (or null) and whether this caller now holds the hop lease. */
export interface AcquireResult {
  /** false: another hop of this session holds the lease; `session` is still returned (read-only). */
  readonly acquired: boolean;
  readonly session: StoredSession | null;
}

/**
 * A small JSON note kept beside a session, handed back once by `takeExpired` after the
 * session expires. The USSD channel keeps what it needs to end the paused execution there
 * (execution id, waiting node), because the session's own value is gone by then.
 */
export type ExpiryNote = Readonly<Record<string, unknown>>;

export interface CommitOptions {
  /** The revision read; null to create (fails when the session already exists). */
  readonly expectedRevision: string | null;
  /** Releases this caller's hop lease in the same atomic step (if it still holds it). */
  readonly leaseOwner?: string;
  /** Replaces the session's expiry note; undefined keeps it; null removes it. */
  readonly expiryNote?: ExpiryNote | null;
}

export interface ExpiredSession {
  readonly sessionId: string;
  readonly note: ExpiryNote;
}

/**
 * Where sessions live between hops: Redis (`session:{sessionId}`, JSON `SessionState`, TTL) or
 * process memory (the embedded default). Both providers pass one contract suite
 * (`session-store.contract.ts` in @ussd/session-data-access).
 *
 * - Expiry is sliding: every `commit` sets `lastActivityAt`'s TTL anew (`ttlSeconds` of the store).
 * - Writes are compare-and-set on `revision`, so concurrent writers never lose an update.
 * - A hop takes at most two round trips: `acquire` (read + lease) and `commit` (write + release).
 */
export interface SessionStore {
  /** 'redis' or 'memory', for the boot log and health. */
  readonly kind: string;
  /** Sliding TTL applied by every commit. */
  readonly ttlSeconds: number;

  get(sessionId: string): Promise<StoredSession | null>;

  /**
   * Reads the session and takes its hop lease (for `leaseMs`, owned by `owner`) in one atomic
   * step. The lease is taken even when the session does not exist yet (a first hop).
   */
  acquire(sessionId: string, owner: string, leaseMs: number): Promise<AcquireResult>;

  /** Gives the lease back without writing (only if `owner` still holds it). */
  release(sessionId: string, owner: string): Promise<void>;

  /**
   * Writes `state` (TTL renewed) if the stored revision is still `expectedRevision` (or, with
   * null, if no session exists). Returns the new stored session, or null on a conflict, in
   * which case nothing was written and the lease (if any) is kept.
   */
  commit(state: SessionState, options: CommitOptions): Promise<StoredSession | null>;

  /** Deletes the session and its note, returning its last state (null if there was none). */
  end(sessionId: string): Promise<SessionState | null>;

  /** Active (unexpired) sessions of one subscriber, newest activity first. */
  listByMsisdn(msisdn: string, limit?: number): Promise<SessionState[]>;

  /**
   * Sessions expired by `now`, each returned to exactly one caller (across replicas) with its
   * expiry note, at most `limit` of them. Sessions without a note are never returned.
   */
  takeExpired(now: Date, limit: number): Promise<ExpiredSession[]>;

  /** Resolves when the store is reachable (health checks). */
  ping(): Promise<void>;

  close(): Promise<void>;
}

/**
 * Read-modify-write built on `get` + `commit`: applies `change` to the current state until a
 * compare-and-set succeeds (`attempts` at most). `change` returning null leaves it unchanged.
 * Returns the stored result, or null when the session does not exist.
 */
export async function updateSession(
  store: SessionStore,
  sessionId: string,
  change: (current: SessionState) => SessionState | null,
  attempts = 20,
): Promise<StoredSession | null> {
  for (let attempt = 0; attempt < attempts; attempt++) {
    const current = await store.get(sessionId);
    if (current === null) return null;
    const next = change(current.state);
    if (next === null) return current;
    const written = await store.commit(next, { expectedRevision: current.revision });
    if (written !== null) return written;
  }
  throw new SessionConflictError(sessionId, attempts);
}

export class SessionConflictError extends Error {
  constructor(
    readonly sessionId: string,
    attempts: number,
  ) {
    super(`session ${sessionId} kept changing under ${attempts} attempts to update it`);
    this.name = 'SessionConflictError';
  }
}
