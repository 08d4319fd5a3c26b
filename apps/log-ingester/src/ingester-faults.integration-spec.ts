import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import pg from 'pg';
import { EmbeddedPostgres, migrateDatabase } from '@ussd/platform-database';
import { createTestDatabase, requireRedis, silentLogger, TcpProxy, type AppProcess, type TestDatabase } from '@ussd/platform-testing';
import {
  groupPending,
  makeExecutions,
  metric,
  nodeIdsIn,
  produce,
  rowCounts,
  spawnIngester,
  waitFor,
  waitForLockWait,
} from './ingester.test-helpers.js';

/**
 * Fault drills against real Redis and PostgreSQL, with the built log-ingester as a process.
 * Every drill ends by asserting exact counts and contents: each produced event is in
 * PostgreSQL exactly once, nothing is pending, nothing was dead-lettered by mistake.
 */
describe('log-ingester fault drills', () => {
  let redisUrl: string;
  let redis: Redis;
  let database: TestDatabase;
  let client: pg.Client;
  const apps: AppProcess[] = [];
  let prefix = '';
  let stream = '';

  beforeAll(async () => {
    redisUrl = await requireRedis();
    redis = new Redis(redisUrl);
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
  });
  beforeEach(() => {
    prefix = `t-ingest-${randomUUID().slice(0, 8)}`;
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
    const app = await spawnIngester({ DATABASE_URL: database.url, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, ...env });
    apps.push(app);
    return { app, url: await app.listening };
  }

  async function expectExactlyOnce(produced: ReturnType<typeof makeExecutions>, deadLetters = 0): Promise<void> {
    const expected = { executions: produced.executionIds.length, completed: produced.executionIds.length, nodes: produced.nodeIds.length, distinctNodes: produced.nodeIds.length };
    await waitFor('every row', () => rowCounts(client, produced.executionIds), (c) => c.nodes >= expected.nodes && c.completed >= expected.completed);
    await waitFor('nothing pending', () => groupPending(redis, stream), (n) => n === 0);
    expect(await rowCounts(client, produced.executionIds)).toEqual(expected);
    expect(await nodeIdsIn(client, produced.executionIds)).toEqual(produced.nodeIds);
    expect(await redis.xlen(`${stream}:dead-letters`)).toBe(deadLetters);
  }

  it('kill -9 before the commit: nothing was written; another replica claims the entries and writes each once', async () => {
    const produced = makeExecutions(50);
    await produce(redis, stream, produced.events);
    const lock = new pg.Client({ connectionString: database.url });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE execution_logs IN SHARE MODE'); // the ingester's INSERT waits inside its transaction
      const first = await start({ INGEST_BATCH_SIZE: '500' });
      await waitForLockWait(client, database.name);
      first.app.child.kill('SIGKILL');
      expect(await first.app.exited).toBe('SIGKILL');
      await lock.query('COMMIT');
    } finally {
      await lock.end();
    }
    expect(await rowCounts(client, produced.executionIds)).toEqual({ executions: 0, completed: 0, nodes: 0, distinctNodes: 0 });
    expect(await groupPending(redis, stream)).toBe(250); // read by the dead replica, never acknowledged

    await start(); // another name: it must claim them (INGEST_CLAIM_IDLE_MS)
    await expectExactlyOnce(produced);
  });

  it('kill -9 between the commit and XACK: after a restart (same name) every event is in PostgreSQL exactly once', async () => {
    const produced = makeExecutions(50);
    await produce(redis, stream, produced.events);
    const redisProxy = await TcpProxy.forUrl(redisUrl).start();
    const lock = new pg.Client({ connectionString: database.url });
    await lock.connect();
    const name = `same-${randomUUID().slice(0, 6)}`;
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE execution_logs IN SHARE MODE');
      const first = await start({ INGEST_BATCH_SIZE: '500', INGEST_CONSUMER_NAME: name, REDIS_URL: redisProxy.rewrite(redisUrl) });
      await waitForLockWait(client, database.name);
      await redisProxy.cut(); // its XACK cannot get through
      await lock.query('COMMIT'); // its transaction goes on and commits
      await waitFor('the batch committed', () => rowCounts(client, produced.executionIds), (c) => c.nodes === 150 && c.completed === 50);
      first.app.child.kill('SIGKILL');
      expect(await first.app.exited).toBe('SIGKILL');
    } finally {
      await lock.end().catch(() => undefined);
      await redisProxy.stop();
    }
    expect(await groupPending(redis, stream)).toBe(250); // committed but never acknowledged

    await start({ INGEST_CONSUMER_NAME: name }); // re-reads its own pending entries at once
    await expectExactlyOnce(produced);
  });

  it('two ingesters in parallel over one stream: every event once, no duplicates, no foreign-key errors, both did work', async () => {
    const a = await start({ INGEST_BATCH_SIZE: '40' });
    const b = await start({ INGEST_BATCH_SIZE: '40' });
    const produced = makeExecutions(300);
    for (let i = 0; i < produced.events.length; i += 100) {
      await produce(redis, stream, produced.events.slice(i, i + 100));
      await new Promise((r) => setTimeout(r, 5));
    }
    await expectExactlyOnce(produced);
    const [eventsA, eventsB] = [await metric(a.url, 'ingest_events_total'), await metric(b.url, 'ingest_events_total')];
    expect((eventsA ?? 0) + (eventsB ?? 0)).toBe(produced.events.length);
    expect(eventsA).toBeGreaterThan(0);
    expect(eventsB).toBeGreaterThan(0);
    for (const app of [a, b]) {
      expect(await metric(app.url, 'ingest_write_failures_total')).toBe(0);
      expect(app.app.lines.filter((l) => Number(l['level']) >= 40)).toEqual([]);
    }
  });

  it('PostgreSQL restarted during ingestion: entries stay pending, readiness 503, then it catches up by itself; nothing lost', async () => {
    const work = await mkdtemp(join(tmpdir(), 'ussd-pg-restart-'));
    await chmod(work, 0o755);
    let server = await EmbeddedPostgres.start({ dataDir: join(work, 'pg'), port: 0, logger: silentLogger() });
    try {
      await migrateDatabase(server.url, silentLogger());
      const port = new URL(server.url).port;
      const own = new pg.Client({ connectionString: server.url });
      await own.connect();
      const { app, url } = await start({ DATABASE_URL: server.url });
      const before = makeExecutions(30);
      await produce(redis, stream, before.events);
      await waitFor('the first rows', () => rowCounts(own, before.executionIds), (c) => c.nodes === 90 && c.completed === 30);
      await own.end();

      await server.stop();
      const during = makeExecutions(30);
      await produce(redis, stream, during.events);
      await waitFor('readiness 503', async () => (await fetch(`${url}/health/ready`)).status, (s) => s === 503);
      await waitFor('entries pending', () => groupPending(redis, stream), (n) => n > 0);
      expect(await metric(url, 'ingest_pending_entries')).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 1500)); // longer than the claim idle time: still nobody loses them

      server = await EmbeddedPostgres.start({ dataDir: join(work, 'pg'), port: Number(port), logger: silentLogger() });
      const after = new pg.Client({ connectionString: server.url });
      await after.connect();
      try {
        await waitFor('readiness 200', async () => (await fetch(`${url}/health/ready`)).status, (s) => s === 200, 30_000);
        const all = [...before.executionIds, ...during.executionIds];
        await waitFor('catching up', () => rowCounts(after, all), (c) => c.nodes === 180 && c.completed === 60, 30_000);
        await waitFor('nothing pending', () => groupPending(redis, stream), (n) => n === 0);
        expect(await rowCounts(after, all)).toEqual({ executions: 60, completed: 60, nodes: 180, distinctNodes: 180 });
        expect(await nodeIdsIn(after, all)).toEqual([...before.nodeIds, ...during.nodeIds].sort());
        expect(await redis.xlen(`${stream}:dead-letters`)).toBe(0);
        expect(app.lines.some((l) => l['msg'] === 'event ingestion recovered')).toBe(true);
      } finally {
        await after.end();
      }
    } finally {
      await Promise.all(apps.splice(0).map((a) => a.cleanup()));
      await server.stop();
      await rm(work, { recursive: true, force: true });
    }
  });

  it('a poison event is dead-lettered (with its error) after INGEST_MAX_DELIVERIES failures; a malformed one at once; the others flow', async () => {
    const { url } = await start({ INGEST_BATCH_SIZE: '50', INGEST_MAX_DELIVERIES: '2' });
    const produced = makeExecutions(20);
    const poison = { ...makeExecutions(1, 0).events[0]!, workflowVersion: 2_147_483_648 };
    await produce(redis, stream, [...produced.events.slice(0, 40), poison, '{"half": ', ...produced.events.slice(40)]);
    await waitFor('two dead letters', () => redis.xlen(`${stream}:dead-letters`), (n) => n === 2);
    await expectExactlyOnce(produced, 2);
    const letters = (await redis.xrange(`${stream}:dead-letters`, '-', '+')) as [string, string[]][];
    const fields = letters.map(([, f]) => Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])) as Record<string, string>);
    expect(fields.map((f) => [f['failures'], f['error']!.slice(0, 17)]).sort()).toEqual([
      ['1', 'event is not JSON'],
      ['2', '22003: value "214'],
    ]);
    expect(JSON.parse(fields.find((f) => f['failures'] === '2')!['event']!)).toEqual(poison);
    expect(await metric(url, 'ingest_dead_lettered_total')).toBe(2);
    expect(await metric(url, 'ingest_dead_letter_entries')).toBe(2);
    expect(await metric(url, 'ingest_stream_length')).toBe(produced.events.length + 2);
    expect(await metric(url, 'ingest_consumer_lag_entries')).toBe(0);
  });

  it('SIGTERM finishes the batch in hand: it commits, acknowledges, and exits 0', async () => {
    const produced = makeExecutions(20);
    await produce(redis, stream, produced.events);
    const lock = new pg.Client({ connectionString: database.url });
    await lock.connect();
    let app: AppProcess;
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE execution_logs IN SHARE MODE');
      app = (await start({ INGEST_BATCH_SIZE: '500' })).app;
      await waitForLockWait(client, database.name);
      app.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 300));
      await lock.query('COMMIT');
    } finally {
      await lock.end();
    }
    expect(await app.exited).toBe(0);
    expect(await rowCounts(client, produced.executionIds)).toEqual({ executions: 20, completed: 20, nodes: 60, distinctNodes: 60 });
    expect(await groupPending(redis, stream)).toBe(0);
  });

  it('/metrics answers Prometheus text, and refuses what it does not understand with problem+json', async () => {
    const { url } = await start();
    const ok = await fetch(`${url}/metrics`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await ok.text();
    for (const name of ['ingest_stream_length', 'ingest_pending_entries', 'ingest_consumer_lag_entries', 'ingest_rows_per_second', 'ingest_batch_duration_seconds', 'ingest_dead_letter_entries', 'ingest_event_lag_seconds']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
    const bad = await fetch(`${url}/metrics?name[]=x&${'y'.repeat(5000)}=1`);
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toContain('application/problem+json');
    const refused = (await bad.json()) as { detail: string; errors: { in: string; pointer: string; code: string }[] };
    expect(refused.detail.length).toBeLessThan(400);
    expect(refused.errors.map((e) => `${e.in} ${e.pointer.slice(0, 10)} ${e.code}`)).toEqual(['query /name[] unknown-parameter', 'query /yyyyyyyyy unknown-parameter']);
    // The same rule as every api route (the platform's KnownQueryGuard): the probes too.
    const probe = await fetch(`${url}/health/live?verbose=1`);
    expect([probe.status, ((await probe.json()) as { errors: { pointer: string }[] }).errors[0]?.pointer]).toEqual([400, '/verbose']);
    const post = await fetch(`${url}/metrics`, { method: 'POST' });
    expect(post.status).toBe(404);
    expect(post.headers.get('content-type')).toContain('application/problem+json');
  });
});
