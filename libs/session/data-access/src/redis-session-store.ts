import type { Redis } from 'ioredis';
import {
  type AcquireResult,
  type CommitOptions,
  type ExpiredSession,
  type ExpiryNote,
  parseSessionState,
  type SessionState,
  sessionKey,
  type SessionStore,
  type StoredSession,
} from '@ussd/session-domain';
import { newestFirst } from './newest-first.js';

export interface RedisSessionStoreOptions {
  /** Sliding TTL applied by every commit (`EX` of `session:{id}`). */
  readonly ttlSeconds: number;
  /** REDIS_KEY_PREFIX: the auxiliary keys (leases, revisions, index, expiry) live under it. */
  readonly keyPrefix: string;
}

/**
 * Reads the session and takes the hop lease in one step. The holder may take its lease again
 * (renewing it). A session written by someone else without a revision key reads as revision '0'.
 * KEYS: session, revision, lease. ARGV: owner, leaseMs. Returns {value|nil, revision|nil, acquired}.
 */
const ACQUIRE = `
local value = redis.call('GET', KEYS[1])
local revision = false
if value then revision = redis.call('GET', KEYS[2]) or '0' end
local holder = redis.call('GET', KEYS[3])
local acquired = 0
if not holder or holder == ARGV[1] then
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[2])
  acquired = 1
end
return {value, revision, acquired}`;

/**
 * Compare-and-set write: the value with EX ttl, a new revision (a counter that never repeats,
 * so a recreated session never matches an old revision), the msisdn index and the expiry note,
 * then the committer's lease is released. On a conflict nothing is written (nil).
 * KEYS: session, revision, lease, msisdn index, expiry zset, notes hash, revision counter.
 * ARGV: value, expected revision, create ('1'|'0'), ttl seconds, release ('1'|'0'), lease owner,
 *       note mode ('keep'|'set'|'delete'), note json, session id.
 */
const COMMIT = `
local exists = redis.call('EXISTS', KEYS[1]) == 1
if ARGV[3] == '1' then
  if exists then return false end
elseif not exists or (redis.call('GET', KEYS[2]) or '0') ~= ARGV[2] then
  return false
end
local ttl = tonumber(ARGV[4])
local revision = tostring(redis.call('INCR', KEYS[7]))
redis.call('SET', KEYS[1], ARGV[1], 'EX', ttl)
redis.call('SET', KEYS[2], revision, 'EX', ttl)
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local expiresAt = now + ttl * 1000
redis.call('ZADD', KEYS[4], expiresAt, ARGV[9])
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
redis.call('EXPIRE', KEYS[4], ttl)
if ARGV[7] == 'set' then
  redis.call('HSET', KEYS[6], ARGV[9], ARGV[8])
elseif ARGV[7] == 'delete' or ARGV[3] == '1' then
  redis.call('HDEL', KEYS[6], ARGV[9])
end
if redis.call('HEXISTS', KEYS[6], ARGV[9]) == 1 then
  redis.call('ZADD', KEYS[5], expiresAt, ARGV[9])
else
  redis.call('ZREM', KEYS[5], ARGV[9])
end
if ARGV[5] == '1' and redis.call('GET', KEYS[3]) == ARGV[6] then redis.call('DEL', KEYS[3]) end
return revision`;

/** KEYS: lease. ARGV: owner. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** KEYS: session, revision, expiry zset, notes hash. ARGV: session id. Returns the last value. */
const END = `
local value = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return value`;

/**
 * Pops sessions whose expiry passed and whose key is really gone, each to one caller only.
 * A key still alive (the caller's clock is ahead of Redis's) is looked at again when Redis
 * expires it. Sessions without a note are dropped without being returned.
 * KEYS: expiry zset, notes hash. ARGV: now (ms), limit, session key prefix ('session:').
 * Returns {id, note, id, note, ...}.
 */
const TAKE_EXPIRED = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local taken = {}
for _, id in ipairs(due) do
  local pttl = redis.call('PTTL', ARGV[3] .. id)
  if pttl ~= -2 then
    redis.call('ZADD', KEYS[1], now + math.max(pttl, 1000), id)
  else
    redis.call('ZREM', KEYS[1], id)
    local note = redis.call('HGET', KEYS[2], id)
    if note then
      redis.call('HDEL', KEYS[2], id)
      table.insert(taken, id)
      table.insert(taken, note)
    end
  end
end
return taken`;

interface SessionCommands {
  ussdSessionAcquire(session: string, revision: string, lease: string, owner: string, leaseMs: number): Promise<[string | null, string | null, number]>;
  ussdSessionCommit(...keysThenArgs: (string | number)[]): Promise<string | null>;
  ussdSessionRelease(lease: string, owner: string): Promise<number>;
  ussdSessionEnd(session: string, revision: string, expiry: string, notes: string, sessionId: string): Promise<string | null>;
  ussdSessionTakeExpired(expiry: string, notes: string, now: number, limit: number, sessionPrefix: string): Promise<string[]>;
}

/** Members of one subscriber's index read at most (its sessions of the last TTL). */
const MSISDN_INDEX_SCAN = 1000;

/**
 * Sessions in Redis, shared by every replica.
 *
 * - `session:{sessionId}`: the seed's JSON SessionState, `EX ttlSeconds`, renewed by every commit.
 * - `{prefix}:session-revision:{id}`: the revision (same TTL), from the counter `{prefix}:session-revision-seq`.
 * - `{prefix}:session-lease:{id}`: the hop lease (owner, `PX leaseMs`).
 * - `{prefix}:session-msisdn:{msisdn}`: zset of session ids scored by expiry (ms), with the TTL of its newest member.
 * - `{prefix}:session-expiry` (zset of noted sessions scored by expiry) and `{prefix}:session-notes` (hash of notes).
 *
 * `acquire` and `commit` are one Lua script each (EVALSHA, EVAL once per connection), so a
 * hop costs two round trips. The scripts build `session:` keys from ids where needed
 * (`takeExpired`), so this store needs a single Redis (or one cluster slot), not a cluster.
 */
export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis';
  readonly ttlSeconds: number;
  private readonly redis: Redis & SessionCommands;
  private readonly prefix: string;

  /** Connects a client of its own, which `close` quits. */
  static async connect(url: string, options: RedisSessionStoreOptions): Promise<RedisSessionStore> {
    const { Redis: RedisClient } = await import('ioredis');
    const client = new RedisClient(url, { connectionName: 'session-store', maxRetriesPerRequest: 1 });
    return new RedisSessionStore(client, options, true);
  }

  /** On a shared client (REDIS_CLIENT), which `close` leaves open unless `ownsClient`. */
  constructor(
    client: Redis,
    options: RedisSessionStoreOptions,
    private readonly ownsClient = false,
  ) {
    if (!Number.isInteger(options.ttlSeconds) || options.ttlSeconds < 1) throw new RangeError(`ttlSeconds must be a positive integer, got ${options.ttlSeconds}`);
    if (client.options.keyPrefix) throw new Error('RedisSessionStore needs a client without keyPrefix: session keys are exactly session:{sessionId}');
    this.ttlSeconds = options.ttlSeconds;
    this.prefix = `${options.keyPrefix}:`;
    client.defineCommand('ussdSessionAcquire', { numberOfKeys: 3, lua: ACQUIRE });
    client.defineCommand('ussdSessionCommit', { numberOfKeys: 7, lua: COMMIT });
    client.defineCommand('ussdSessionRelease', { numberOfKeys: 1, lua: RELEASE });
    client.defineCommand('ussdSessionEnd', { numberOfKeys: 4, lua: END });
    client.defineCommand('ussdSessionTakeExpired', { numberOfKeys: 2, lua: TAKE_EXPIRED });
    this.redis = client as Redis & SessionCommands;
  }

  async get(sessionId: string): Promise<StoredSession | null> {
    const [value, revision] = await this.redis.mget(sessionKey(sessionId), this.revisionKey(sessionId));
    return stored(value ?? null, revision ?? null);
  }

  async acquire(sessionId: string, owner: string, leaseMs: number): Promise<AcquireResult> {
    const [value, revision, acquired] = await this.redis.ussdSessionAcquire(sessionKey(sessionId), this.revisionKey(sessionId), this.leaseKey(sessionId), owner, Math.max(1, Math.ceil(leaseMs)));
    return { acquired: acquired === 1, session: stored(value, revision) };
  }

  async release(sessionId: string, owner: string): Promise<void> {
    await this.redis.ussdSessionRelease(this.leaseKey(sessionId), owner);
  }

  async commit(state: SessionState, options: CommitOptions): Promise<StoredSession | null> {
    const json = JSON.stringify(state);
    const copy = parseSessionState(json); // never store what a reader would refuse
    const { sessionId } = copy;
    const note = options.expiryNote;
    const revision = await this.redis.ussdSessionCommit(
      sessionKey(sessionId),
      this.revisionKey(sessionId),
      this.leaseKey(sessionId),
      this.msisdnKey(copy.msisdn),
      this.key('session-expiry'),
      this.key('session-notes'),
      this.key('session-revision-seq'),
      json,
      options.expectedRevision ?? '',
      options.expectedRevision === null ? '1' : '0',
      this.ttlSeconds,
      options.leaseOwner === undefined ? '0' : '1',
      options.leaseOwner ?? '',
      note === undefined ? 'keep' : note === null ? 'delete' : 'set',
      note ? JSON.stringify(note) : '',
      sessionId,
    );
    return revision === null ? null : { state: copy, revision };
  }

  /** A corrupt value is deleted all the same, then reported (SessionStateError). */
  async end(sessionId: string): Promise<SessionState | null> {
    const value = await this.redis.ussdSessionEnd(sessionKey(sessionId), this.revisionKey(sessionId), this.key('session-expiry'), this.key('session-notes'), sessionId);
    if (value === null) return null;
    const state = parseSessionState(value);
    await this.redis.zrem(this.msisdnKey(state.msisdn), sessionId);
    return state;
  }

  async listByMsisdn(msisdn: string, limit = 100): Promise<SessionState[]> {
    const index = this.msisdnKey(msisdn);
    const members = await this.redis.zrevrangebyscore(index, '+inf', Date.now(), 'WITHSCORES', 'LIMIT', 0, MSISDN_INDEX_SCAN);
    const ids = members.filter((_, i) => i % 2 === 0);
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map(sessionKey));
    const live: { state: SessionState; committed: number }[] = [];
    const stale: string[] = [];
    values.forEach((value, i) => {
      const state = value === null ? null : parseSessionState(value);
      if (state === null || state.msisdn !== msisdn) stale.push(ids[i] as string);
      else live.push({ state, committed: Number(members[i * 2 + 1]) });
    });
    if (stale.length > 0) await this.redis.zrem(index, ...stale);
    return newestFirst(live).slice(0, Math.max(0, limit));
  }

  async takeExpired(now: Date, limit: number): Promise<ExpiredSession[]> {
    if (limit < 1) return [];
    const flat = await this.redis.ussdSessionTakeExpired(this.key('session-expiry'), this.key('session-notes'), now.getTime(), Math.floor(limit), sessionKey(''));
    const taken: ExpiredSession[] = [];
    for (let i = 0; i < flat.length; i += 2) taken.push({ sessionId: flat[i] as string, note: JSON.parse(flat[i + 1] as string) as ExpiryNote });
    return taken;
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    if (this.ownsClient) await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private key(name: string): string {
    return `${this.prefix}${name}`;
  }

  private revisionKey(sessionId: string): string {
    return `${this.prefix}session-revision:${sessionId}`;
  }

  private leaseKey(sessionId: string): string {
    return `${this.prefix}session-lease:${sessionId}`;
  }

  private msisdnKey(msisdn: string): string {
    return `${this.prefix}session-msisdn:${msisdn}`;
  }
}

function stored(value: string | null, revision: string | null): StoredSession | null {
  return value === null ? null : { state: parseSessionState(value), revision: revision ?? '0' };
}
