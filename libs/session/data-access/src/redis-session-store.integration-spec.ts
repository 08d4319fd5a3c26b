import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { parseSessionState, sessionKey, updateSession } from '@ussd/session-domain';
import { requireRedis } from '@ussd/platform-testing';
import { RedisSessionStore } from './redis-session-store.js';
import { describeSessionStoreContract, sessionState, uniqueId } from './session-store.contract.js';
import { sessionStoreApp } from './session-store.module.test-helpers.js';

/**
 * The Redis store against the real test Redis. Session keys are exactly `session:{id}` (no
 * prefix), so every test uses fresh ids; the auxiliary keys live under a prefix per test.
 */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function connect(): Promise<Redis> {
  const client = new Redis(await requireRedis(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return client;
}

/** Deletes what a test left under its prefix (the expiry zset and notes hash have no TTL). */
async function dropPrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await client.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

const testPrefix = () => `test-session-${randomUUID().slice(0, 8)}`;

describeSessionStoreContract(
  'redis',
  async ({ ttlSeconds }) => {
    const prefix = testPrefix();
    const client = await connect();
    const store = new RedisSessionStore(client, { ttlSeconds, keyPrefix: prefix });
    // Another replica: its own connection, opened (and quit) by the store itself.
    const peer = await RedisSessionStore.connect(await requireRedis(), { ttlSeconds, keyPrefix: prefix });
    return {
      store,
      peer,
      wait: (ms) => sleep(ms),
      now: () => new Date(),
      writeRaw: async (sessionId, value) => {
        await client.set(sessionKey(sessionId), value, 'EX', 60);
      },
      close: async () => {
        await store.close();
        await peer.close();
        await dropPrefix(client, prefix);
        await client.quit();
      },
    };
  },
  { writesRaw: true },
);

describe('RedisSessionStore', () => {
  let client: Redis;
  let prefix: string;
  let store: RedisSessionStore;
  beforeEach(async () => {
    client = await connect();
    prefix = testPrefix();
    store = new RedisSessionStore(client, { ttlSeconds: 3600, keyPrefix: prefix });
  });
  afterEach(async () => {
    await dropPrefix(client, prefix);
    await client.quit();
  });

  it("stores the seed's key and value: session:{id}, JSON SessionState, TTL renewed by each commit", async () => {
    const state = sessionState(uniqueId('seed-format'));
    try {
      const created = (await store.commit(state, { expectedRevision: null }))!;
      expect(await client.exists(`session:${state.sessionId}`)).toBe(1);
      expect(parseSessionState((await client.get(`session:${state.sessionId}`))!)).toEqual(state);
      expect(await client.ttl(`session:${state.sessionId}`)).toBeGreaterThanOrEqual(3598);

      await client.expire(`session:${state.sessionId}`, 100);
      await store.commit({ ...state, data: { step: 2 } }, { expectedRevision: created.revision });
      expect(await client.ttl(`session:${state.sessionId}`)).toBeGreaterThanOrEqual(3598);
      expect(await client.ttl(`${prefix}:session-revision:${state.sessionId}`)).toBeGreaterThanOrEqual(3598);
    } finally {
      await client.del(sessionKey(state.sessionId));
    }
  });

  it("reads and updates a session written in the seed's format by someone else (no revision key)", async () => {
    const state = sessionState(uniqueId('foreign'), { data: { count: 1 } });
    try {
      await client.set(sessionKey(state.sessionId), JSON.stringify(state), 'EX', 60);
      expect(await store.get(state.sessionId)).toEqual({ state, revision: '0' });
      const updated = await updateSession(store, state.sessionId, (current) => ({ ...current, data: { count: 2 } }));
      expect(updated?.state.data).toEqual({ count: 2 });
      expect(await client.ttl(sessionKey(state.sessionId))).toBeGreaterThanOrEqual(3598);
    } finally {
      await client.del(sessionKey(state.sessionId));
    }
  });

  it('takes two round trips per hop: acquire (read + lease) and commit (write + release)', async () => {
    const monitor = await client.duplicate().monitor();
    const sessionId = uniqueId('round-trips');
    const key = sessionKey(sessionId);
    const commands: string[] = [];
    let markerSeen: () => void = () => undefined;
    const marker = new Promise<void>((resolve) => (markerSeen = resolve));
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (source === 'lua') return; // commands run inside our scripts
      if (args.includes(key)) commands.push(args[0]!.toLowerCase());
      if (args[0]?.toLowerCase() === 'echo' && args[1] === `done ${sessionId}`) markerSeen();
    });
    try {
      await sleep(50); // MONITOR is on
      for (const hop of [1, 2]) {
        const { session } = await store.acquire(sessionId, `hop-${hop}`, 5000);
        await store.commit(sessionState(sessionId, { data: { hop } }), { expectedRevision: session?.revision ?? null, leaseOwner: `hop-${hop}` });
      }
      await client.echo(`done ${sessionId}`); // everything before it has reached MONITOR
      await marker;
      // The first use on a connection sends the script (EVAL), later ones its sha (EVALSHA).
      expect(commands).toEqual(['eval', 'eval', 'evalsha', 'evalsha']);
      expect((await store.get(sessionId))?.state.data).toEqual({ hop: 2 });
    } finally {
      monitor.disconnect();
      await client.del(key);
    }
  });

  it('removes every trace of an ended session but its lease', async () => {
    const state = sessionState(uniqueId('end-keys'), { msisdn: '+254700000001' });
    await store.commit(state, { expectedRevision: null, expiryNote: { executionId: 'e' } });
    expect(await client.hexists(`${prefix}:session-notes`, state.sessionId)).toBe(1);
    expect(await store.end(state.sessionId)).toEqual(state);
    expect(await client.exists(sessionKey(state.sessionId), `${prefix}:session-revision:${state.sessionId}`)).toBe(0);
    expect(await client.hexists(`${prefix}:session-notes`, state.sessionId)).toBe(0);
    expect(await client.zscore(`${prefix}:session-expiry`, state.sessionId)).toBeNull();
    expect(await client.zscore(`${prefix}:session-msisdn:${state.msisdn}`, state.sessionId)).toBeNull();
  });

  it('keeps the subscriber index bounded: its own TTL, expired members trimmed', async () => {
    const short = new RedisSessionStore(client, { ttlSeconds: 1, keyPrefix: prefix });
    const msisdn = '+254700000002';
    const first = sessionState(uniqueId('index-1'), { msisdn });
    await short.commit(first, { expectedRevision: null });
    expect(await client.ttl(`${prefix}:session-msisdn:${msisdn}`)).toBe(1);
    await sleep(1100);
    const second = sessionState(uniqueId('index-2'), { msisdn });
    await short.commit(second, { expectedRevision: null });
    expect(await client.zrange(`${prefix}:session-msisdn:${msisdn}`, '0', '-1')).toEqual([second.sessionId]);
    await sleep(1100);
    expect(await client.exists(`${prefix}:session-msisdn:${msisdn}`)).toBe(0);
  });

  it('closes only what it opened', async () => {
    await store.close();
    expect(await client.ping()).toBe('PONG');
    const own = await RedisSessionStore.connect(await requireRedis(), { ttlSeconds: 60, keyPrefix: prefix });
    await own.ping();
    await own.close();
    await expect(own.ping()).rejects.toThrow();
  });

  it('refuses a client with an ioredis keyPrefix (the session key must stay session:{id})', () => {
    const prefixed = new Redis({ lazyConnect: true, keyPrefix: 'x:' });
    expect(() => new RedisSessionStore(prefixed, { ttlSeconds: 60, keyPrefix: prefix })).toThrow('needs a client without keyPrefix');
    prefixed.disconnect();
  });
});

describe('SessionStoreModule with REDIS_URL', () => {
  it('provides the Redis store on the shared client, with the config TTL and prefix, and leaves the client open', async () => {
    const client = await connect();
    const prefix = testPrefix();
    const { app, store } = await sessionStoreApp({ REDIS_URL: await requireRedis(), REDIS_KEY_PREFIX: prefix, SESSION_TTL_SECONDS: '90' }, client);
    const state = sessionState(uniqueId('module-redis'));
    try {
      expect(store).toBeInstanceOf(RedisSessionStore);
      expect(store.ttlSeconds).toBe(90);
      await store.acquire(state.sessionId, 'hop', 5000);
      await store.commit(state, { expectedRevision: null });
      expect(await client.ttl(sessionKey(state.sessionId))).toBeGreaterThanOrEqual(89);
      expect(await client.exists(`${prefix}:session-lease:${state.sessionId}`)).toBe(1);
      await app.close();
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.del(sessionKey(state.sessionId));
      await dropPrefix(client, prefix);
      await client.quit();
    }
  });
});
