import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import pg from 'pg';
import { consumerHeartbeatKey } from '@ussd/execution-data-access';
import { migrateDatabase } from '@ussd/platform-database';
import { createTestDatabase, requireRedis, silentLogger, spawnApp, type AppProcess, type TestDatabase } from '@ussd/platform-testing';
import {
  entry,
  groupConsumers,
  groupPending,
  makeExecutions,
  nodeIdsIn,
  produce,
  rowCounts,
  spawnIngester,
  waitFor,
  waitForLockWait,
} from './ingester.test-helpers.js';

const TOOK_DEAD = 'took the pending entries of a dead consumer (no heartbeat)';
const REMOVED_DEAD = 'removed a dead consumer from the group (no heartbeat, nothing pending)';

/**
 * Restarts and dead consumers (docs/log-ingester.md, decision 0028), with the built
 * log-ingester as a process against real Redis and PostgreSQL. INGEST_CLAIM_IDLE_MS is set to
 * ten minutes throughout, so the idle-time claim cannot be what brings entries back: only the
 * stable name and the heartbeats can.
 */
describe('log-ingester restarts and dead consumers', () => {
  let redisUrl: string;
  let redis: Redis;
  let database: TestDatabase;
  let client: pg.Client;
  const apps: AppProcess[] = [];
  let prefix = '';
  let stream = '';
  const noIdleClaim = { INGEST_CLAIM_IDLE_MS: '600000' };

  beforeAll(async () => {
    redisUrl = await requireRedis();
    redis = new Redis(redisUrl);
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  beforeEach(() => {
    prefix = `t-restart-${randomUUID().slice(0, 8)}`;
    stream = `${prefix}:execution-events`;
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((a) => a.cleanup()));
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  });
  afterAll(async () => {
    redis?.disconnect();
    await client?.end();
    await database?.drop();
  });

  async function start(env: Record<string, string> = {}): Promise<{ app: AppProcess; url: string }> {
    const app = await spawnIngester({ DATABASE_URL: database.url, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, ...noIdleClaim, ...env });
    apps.push(app);
    return { app, url: await app.listening };
  }

  /** Starts an ingester that reads the whole stream in one batch, waits until it is blocked inside its transaction, and kills it (-9): its entries stay pending under its name. */
  async function killHoldingPending(env: Record<string, string>): Promise<void> {
    const lock = new pg.Client({ connectionString: database.url });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE execution_logs IN SHARE MODE'); // its INSERT waits inside its transaction
      const first = await start({ INGEST_BATCH_SIZE: '500', ...env });
      await waitForLockWait(client, database.name);
      first.app.child.kill('SIGKILL');
      expect(await first.app.exited).toBe('SIGKILL');
      await lock.query('COMMIT');
    } finally {
      await lock.end();
    }
  }

  async function expectExactlyOnce(produced: ReturnType<typeof makeExecutions>, db: pg.Client = client): Promise<void> {
    const expected = { executions: produced.executionIds.length, completed: produced.executionIds.length, nodes: produced.nodeIds.length, distinctNodes: produced.nodeIds.length };
    await waitFor('nothing pending', () => groupPending(redis, stream), (n) => n === 0);
    expect(await rowCounts(db, produced.executionIds)).toEqual(expected);
    expect(await nodeIdsIn(db, produced.executionIds)).toEqual(produced.nodeIds);
    expect(await redis.xlen(`${stream}:dead-letters`)).toBe(0);
  }

  it('kill -9 holding pending entries, restart under the same name: they are written within 2 s of it listening (its boot is Node and Nest), each exactly once', async () => {
    const produced = makeExecutions(50);
    await produce(redis, stream, produced.events);
    const name = `pod-${randomUUID().slice(0, 6)}`;
    const longTtl = { INGEST_HEARTBEAT_TTL_MS: '60000' }; // the dead process's heartbeat outlives the restart: the restart must see it is dead
    await killHoldingPending({ INGEST_CONSUMER_NAME: name, ...longTtl });
    expect(await rowCounts(client, produced.executionIds)).toEqual({ executions: 0, completed: 0, nodes: 0, distinctNodes: 0 });
    expect(await groupConsumers(redis, stream)).toEqual([{ name, pending: 250 }]);
    expect(await redis.exists(consumerHeartbeatKey(stream, 'log-ingester', name))).toBe(1); // the dead process's heartbeat has not expired yet

    const spawned = Date.now();
    const { app } = await start({ INGEST_CONSUMER_NAME: name, ...longTtl });
    const up = Date.now();
    await waitFor('every row', () => rowCounts(client, produced.executionIds), (c) => c.nodes === 150 && c.completed === 50, 2000);
    const done = Date.now();
    expect(done - up).toBeLessThan(2000);
    process.stdout.write(`restart under the same name: spawn to listening ${up - spawned} ms, listening to every row ${done - up} ms\n`);
    await expectExactlyOnce(produced);
    expect(await groupConsumers(redis, stream)).toEqual([{ name, pending: 0 }]);
    expect(app.lines.filter((l) => l['msg'] === 'took over the consumer name of a process that stopped').map((l) => [l['consumer'], l['why']])).toEqual([[name, 'its Redis connection is closed']]);
    expect(app.lines.filter((l) => Number(l['level']) >= 50)).toEqual([]);
  });

  it('a consumer with another name that vanished: its pending entries are taken once its heartbeat expires, written once, and it is removed from the group', async () => {
    const produced = makeExecutions(50);
    await produce(redis, stream, produced.events);
    const dead = `gone-${randomUUID().slice(0, 6)}`;
    await killHoldingPending({ INGEST_CONSUMER_NAME: dead, INGEST_HEARTBEAT_TTL_MS: '1000' });
    const other = `new-${randomUUID().slice(0, 6)}`;
    const { app } = await start({ INGEST_CONSUMER_NAME: other, INGEST_HEARTBEAT_TTL_MS: '1000' });
    await waitFor('every row', () => rowCounts(client, produced.executionIds), (c) => c.nodes === 150 && c.completed === 50, 10_000);
    await expectExactlyOnce(produced);
    await waitFor('the dead consumer removed', () => groupConsumers(redis, stream), (c) => c.length === 1, 5000);
    expect(await groupConsumers(redis, stream)).toEqual([{ name: other, pending: 0 }]);
    const messages = app.lines.map((l) => l['msg']);
    expect(messages.indexOf(TOOK_DEAD)).toBeGreaterThanOrEqual(0);
    expect(messages.indexOf(REMOVED_DEAD)).toBeGreaterThan(messages.indexOf(TOOK_DEAD)); // removed only after its entries were taken
    expect(app.lines.filter((l) => l['msg'] === TOOK_DEAD).reduce((sum, l) => sum + Number(l['count']), 0)).toBe(250);
  });

  it('two live replicas never remove each other, even while one is stuck in a transaction longer than the heartbeat TTL', async () => {
    const other = await createTestDatabase();
    const otherClient = new pg.Client({ connectionString: other.url });
    const lock = new pg.Client({ connectionString: database.url });
    try {
      await migrateDatabase(other.url, silentLogger());
      await otherClient.connect();
      await lock.connect();
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE execution_logs IN SHARE MODE');
      // The stuck replica writes to the locked database; the free one to another database, so
      // where each event landed shows which replica wrote it.
      const stuckName = `stuck-${randomUUID().slice(0, 6)}`;
      const ttl = { INGEST_HEARTBEAT_TTL_MS: '2000', INGEST_BATCH_SIZE: '100' }; // renewed every 250 ms: eight beats of margin on a loaded machine
      const stuck = await start({ INGEST_CONSUMER_NAME: stuckName, ...ttl });
      const first = makeExecutions(20);
      await produce(redis, stream, first.events);
      await waitForLockWait(client, database.name);
      const freeName = `free-${randomUUID().slice(0, 6)}`;
      const free = await start({ DATABASE_URL: other.url, INGEST_CONSUMER_NAME: freeName, ...ttl });
      const second = makeExecutions(20);
      await produce(redis, stream, second.events);
      await waitFor('the free replica writes', () => rowCounts(otherClient, second.executionIds), (c) => c.nodes === 60 && c.completed === 20);

      // The stuck replica has not touched the stream for more than the TTL: only its heartbeat says it is alive.
      await waitFor('the stuck consumer idle longer than the TTL', () => consumerIdle(stuckName), (idle) => idle > 4000, 15_000);
      expect((await groupConsumers(redis, stream)).find((c) => c.name === stuckName)?.pending).toBe(100);
      await lock.query('COMMIT');

      await waitFor('nothing pending', () => groupPending(redis, stream), (n) => n === 0);
      expect(await rowCounts(client, first.executionIds)).toEqual({ executions: 20, completed: 20, nodes: 60, distinctNodes: 60 });
      expect(await rowCounts(otherClient, second.executionIds)).toEqual({ executions: 20, completed: 20, nodes: 60, distinctNodes: 60 });
      const inStuck = await nodeIdsIn(client, [...first.executionIds, ...second.executionIds]);
      const inFree = await nodeIdsIn(otherClient, [...first.executionIds, ...second.executionIds]);
      expect([...inStuck, ...inFree].sort()).toEqual([...first.nodeIds, ...second.nodeIds].sort()); // each node row once, in one database
      expect(inStuck.length).toBeGreaterThan(0); // the stuck replica kept its batch and wrote it itself
      expect(free.app.lines.filter((l) => l['msg'] === TOOK_DEAD || l['msg'] === REMOVED_DEAD)).toEqual([]);
      expect(stuck.app.lines.filter((l) => l['msg'] === TOOK_DEAD || l['msg'] === REMOVED_DEAD)).toEqual([]);
      expect((await groupConsumers(redis, stream)).map((c) => c.name).sort()).toEqual([freeName, stuckName].sort());
    } finally {
      await lock.end().catch(() => undefined);
      await Promise.all(apps.splice(0).map((a) => a.cleanup()));
      await otherClient.end().catch(() => undefined);
      await other.drop();
    }
  });

  it('refuses to start, in one line, under a name set in INGEST_CONSUMER_NAME that a live process uses; without it, a second process on the host takes another name', async () => {
    const name = `twin-${randomUUID().slice(0, 6)}`;
    await start({ INGEST_CONSUMER_NAME: name });
    const twin = await spawnIngester({ DATABASE_URL: database.url, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, INGEST_CONSUMER_NAME: name });
    apps.push(twin);
    expect(await twin.exited).toBe(1);
    expect(twin.lines.filter((l) => Number(l['level']) >= 50).map((l) => l['msg'])).toEqual([
      `log-ingester could not start: consumer name "${name}" of group log-ingester is used by another live process (its heartbeat is being renewed): give each process its own INGEST_CONSUMER_NAME, or stop the other one`,
    ]);

    // The default name is the host name; a second process on the same host gets a suffix.
    const env = { DATABASE_URL: database.url, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, DATABASE_MIGRATE_ON_BOOT: 'false', INGEST_BLOCK_MS: '100', LOG_LEVEL: 'info' };
    const a = await spawnApp(entry, env);
    apps.push(a);
    await a.listening;
    const b = await spawnApp(entry, env);
    apps.push(b);
    await b.listening;
    const consumerOf = (app: AppProcess) => app.lines.find((l) => l['msg'] === 'consuming execution events')?.['consumer'];
    expect(consumerOf(a)).toBe(hostname());
    expect(String(consumerOf(b))).toMatch(new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[0-9a-f]{8}$`));
    expect(b.lines.some((l) => l['msg'] === 'another live process consumes under this host name; using another name')).toBe(true);
    const produced = makeExecutions(30);
    await produce(redis, stream, produced.events);
    await waitFor('every row', () => rowCounts(client, produced.executionIds), (c) => c.nodes === 90 && c.completed === 30);
    await expectExactlyOnce(produced);
  });

  it('SIGTERM removes its heartbeat, so the next start under the name does not wait for it to expire', async () => {
    const name = `term-${randomUUID().slice(0, 6)}`;
    const { app } = await start({ INGEST_CONSUMER_NAME: name, INGEST_HEARTBEAT_TTL_MS: '600000' });
    const key = consumerHeartbeatKey(stream, 'log-ingester', name);
    expect(await redis.exists(key)).toBe(1);
    expect(await redis.pttl(key)).toBeGreaterThan(590_000);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(await redis.exists(key)).toBe(0);
  });

  async function consumerIdle(name: string): Promise<number> {
    const reply = (await redis.xinfo('CONSUMERS', stream, 'log-ingester')) as unknown[][];
    const fields = reply.find((f) => f[1] === name) ?? [];
    return Number(fields[fields.indexOf('idle') + 1]);
  }
});
