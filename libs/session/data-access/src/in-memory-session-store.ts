import {
  type AcquireResult,
  type CommitOptions,
  type ExpiredSession,
  type ExpiryNote,
  parseSessionState,
  type SessionState,
  type SessionStore,
  type StoredSession,
} from '@ussd/session-domain';
import { newestFirst } from './newest-first.js';

export interface InMemorySessionStoreOptions {
  /** Sliding TTL applied by every commit. */
  readonly ttlSeconds: number;
  /** Live sessions kept at most; creating one more fails with SessionStoreFullError. Default 100,000. */
  readonly maxSessions?: number;
  /** Milliseconds since the epoch; tests inject a fake clock. Default Date.now. */
  readonly now?: () => number;
}

export const DEFAULT_MAX_IN_MEMORY_SESSIONS = 100_000;

interface Entry {
  /** The stored JSON, as Redis would hold it: every read parses a fresh copy. */
  readonly json: string;
  readonly msisdn: string;
  readonly revision: string;
  readonly expiresAt: number;
  readonly note: ExpiryNote | undefined;
}

interface Lease {
  readonly owner: string;
  readonly expiresAt: number;
}

/**
 * The embedded session store (no REDIS_URL): one process only, nothing survives a restart.
 * Same semantics as the Redis store: sliding TTL on the store's clock, compare-and-set
 * revisions, hop leases that expire (the holder may take its own lease again, renewing it),
 * an msisdn index, expiry notes handed out once by `takeExpired`.
 *
 * Memory is bounded: expired sessions are dropped as soon as any call sees them (the map is
 * kept in expiry order, so dropping costs only what is dropped), live sessions are capped at
 * `maxSessions`, notes of expired sessions waiting for `takeExpired` at `maxSessions` too
 * (oldest dropped first) and stale leases are swept as their map grows. Roughly
 * `maxSessions` x (stored JSON + ~300 bytes) at most.
 */
export class InMemorySessionStore implements SessionStore {
  readonly kind = 'memory';
  readonly ttlSeconds: number;
  private readonly maxSessions: number;
  private readonly now: () => number;
  /** In expiry order: every commit re-inserts its session at the end (same TTL for all). */
  private readonly sessions = new Map<string, Entry>();
  private readonly byMsisdn = new Map<string, Set<string>>();
  private readonly leases = new Map<string, Lease>();
  private leaseSweepAt = 1024;
  /** Notes of expired sessions, in expiry order, until `takeExpired` hands them out. */
  private readonly expiredNotes = new Map<string, { note: ExpiryNote; expiredAt: number }>();
  private revisions = 0;

  constructor(options: InMemorySessionStoreOptions) {
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) throw new RangeError(`ttlSeconds must be a positive integer, got ${options.ttlSeconds}`);
    this.ttlSeconds = options.ttlSeconds;
    this.maxSessions = options.maxSessions ?? DEFAULT_MAX_IN_MEMORY_SESSIONS;
    this.now = options.now ?? Date.now;
  }

  async get(sessionId: string): Promise<StoredSession | null> {
    return this.read(sessionId);
  }

  async acquire(sessionId: string, owner: string, leaseMs: number): Promise<AcquireResult> {
    const session = this.read(sessionId);
    const now = this.now();
    const lease = this.leases.get(sessionId);
    if (lease !== undefined && lease.expiresAt > now && lease.owner !== owner) return { acquired: false, session };
    this.leases.delete(sessionId);
    this.leases.set(sessionId, { owner, expiresAt: now + leaseMs });
    this.sweepLeases(now);
    return { acquired: true, session };
  }

  async release(sessionId: string, owner: string): Promise<void> {
    this.releaseIfOwner(sessionId, owner);
  }

  async commit(state: SessionState, options: CommitOptions): Promise<StoredSession | null> {
    const json = JSON.stringify(state);
    const copy = parseSessionState(json); // refuses what Redis would refuse to read back
    this.purgeExpired();
    const current = this.sessions.get(state.sessionId);
    if (options.expectedRevision === null ? current !== undefined : current?.revision !== options.expectedRevision) return null;
    if (current === undefined && this.sessions.size >= this.maxSessions) throw new SessionStoreFullError(this.maxSessions);

    let note = current?.note;
    if (options.expiryNote !== undefined) note = options.expiryNote === null ? undefined : copyNote(options.expiryNote);
    // A new session starts afresh: an untaken note of an expired namesake is dropped (as in Redis).
    if (current === undefined) this.expiredNotes.delete(state.sessionId);
    if (current !== undefined && current.msisdn !== copy.msisdn) this.unindex(state.sessionId, current.msisdn);

    const revision = String(++this.revisions);
    this.sessions.delete(state.sessionId);
    this.sessions.set(state.sessionId, { json, msisdn: copy.msisdn, revision, expiresAt: this.now() + this.ttlSeconds * 1000, note });
    let ids = this.byMsisdn.get(copy.msisdn);
    if (ids === undefined) this.byMsisdn.set(copy.msisdn, (ids = new Set()));
    ids.add(state.sessionId);
    if (options.leaseOwner !== undefined) this.releaseIfOwner(state.sessionId, options.leaseOwner);
    return { state: copy, revision };
  }

  async end(sessionId: string): Promise<SessionState | null> {
    this.purgeExpired();
    const entry = this.sessions.get(sessionId);
    if (entry === undefined) return null;
    this.sessions.delete(sessionId);
    this.unindex(sessionId, entry.msisdn);
    return parseSessionState(entry.json);
  }

  async listByMsisdn(msisdn: string, limit = 100): Promise<SessionState[]> {
    this.purgeExpired();
    const ids = [...(this.byMsisdn.get(msisdn) ?? [])];
    const states = ids
      .map((id) => this.sessions.get(id))
      .filter((entry): entry is Entry => entry !== undefined)
      .map((entry) => ({ state: parseSessionState(entry.json), committed: Number(entry.revision) }));
    return newestFirst(states).slice(0, Math.max(0, limit));
  }

  async takeExpired(now: Date, limit: number): Promise<ExpiredSession[]> {
    this.purgeExpired();
    const taken: ExpiredSession[] = [];
    for (const [sessionId, { note, expiredAt }] of this.expiredNotes) {
      if (taken.length >= limit || expiredAt > now.getTime()) break;
      this.expiredNotes.delete(sessionId);
      taken.push({ sessionId, note });
    }
    return taken;
  }

  /** Always reachable. */
  ping(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    this.sessions.clear();
    this.byMsisdn.clear();
    this.leases.clear();
    this.expiredNotes.clear();
  }

  private read(sessionId: string): StoredSession | null {
    this.purgeExpired();
    const entry = this.sessions.get(sessionId);
    return entry === undefined ? null : { state: parseSessionState(entry.json), revision: entry.revision };
  }

  private releaseIfOwner(sessionId: string, owner: string): void {
    if (this.leases.get(sessionId)?.owner === owner) this.leases.delete(sessionId);
  }

  /** Drops expired sessions from the front of the (expiry-ordered) map, keeping their notes. */
  private purgeExpired(): void {
    const now = this.now();
    for (const [sessionId, entry] of this.sessions) {
      if (entry.expiresAt > now) break;
      this.sessions.delete(sessionId);
      this.unindex(sessionId, entry.msisdn);
      if (entry.note !== undefined) {
        this.expiredNotes.set(sessionId, { note: entry.note, expiredAt: entry.expiresAt });
        if (this.expiredNotes.size > this.maxSessions) this.expiredNotes.delete(this.expiredNotes.keys().next().value as string);
      }
    }
  }

  /** Stale leases (taken for sessions never committed) are swept whenever the map doubles. */
  private sweepLeases(now: number): void {
    if (this.leases.size < this.leaseSweepAt) return;
    for (const [sessionId, lease] of this.leases) if (lease.expiresAt <= now) this.leases.delete(sessionId);
    this.leaseSweepAt = Math.max(1024, this.leases.size * 2);
  }

  private unindex(sessionId: string, msisdn: string): void {
    const ids = this.byMsisdn.get(msisdn);
    ids?.delete(sessionId);
    if (ids?.size === 0) this.byMsisdn.delete(msisdn);
  }
}

/** The in-memory store holds `maxSessions` live sessions already. */
export class SessionStoreFullError extends Error {
  constructor(readonly maxSessions: number) {
    super(`the in-memory session store is full (${maxSessions} live sessions); set REDIS_URL to keep sessions in Redis`);
    this.name = 'SessionStoreFullError';
  }
}

function copyNote(note: ExpiryNote): ExpiryNote {
  return JSON.parse(JSON.stringify(note)) as ExpiryNote;
}
