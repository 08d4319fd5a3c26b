import { randomUUID } from 'node:crypto';
import { migrateDatabase } from '@ussd/platform-database';
import type { RunningApp } from '@ussd/platform-http';
import { createTestDatabase, createTestKey, requireRedis, silentLogger, TcpProxy, type TestDatabase } from '@ussd/platform-testing';
import { REDIS_CLIENT } from '@ussd/platform-redis';
import { SESSION_STORE } from '@ussd/session-data-access';
import type { Redis } from 'ioredis';
import type { SessionStore } from '@ussd/session-domain';
import { startApi } from './route-table.test-helpers.js';

/**
 * PostgreSQL and Redis cut under a running api through TCP proxies (docs/decisions/0026): every
 * REST route that needs the missing dependency answers 503 problem+json naming it, with
 * Retry-After, never a 500, within DATABASE_CONNECT_TIMEOUT_MS (1 s here) plus slack; once the
 * proxy is back the same routes answer 200 again without a restart.
 */
describe('REST routes while PostgreSQL or Redis is unreachable', () => {
  /** Generous on a loaded 2-core machine: the pg connect timeout is 1 s, Redis commands fail at once. */
  const ANSWER_WITHIN_MS = 8000;
  const spec = { specVersion: 1, settings: { executionTimeoutMs: 10_000, maxSteps: 10 }, triggers: [{ type: 'http', entry: 'done' }], nodes: [{ id: 'done', type: 'end', output: "'ok'" }] };
  let database: TestDatabase;
  let running: RunningApp;
  let postgres: TcpProxy;
  let redis: TcpProxy;
  let admin: Record<string, string>;
  let executionId: string;
  let routes: [method: string, path: string, body?: unknown][];
  const logs: string[] = [];

  const call = async (method: string, path: string, body?: unknown) => {
    const started = Date.now();
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: { ...admin, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    return {
      status: response.status,
      ms: Date.now() - started,
      contentType: response.headers.get('content-type'),
      retryAfter: response.headers.get('retry-after'),
      text,
      body: (text.startsWith('{') ? JSON.parse(text) : {}) as Record<string, unknown>,
    };
  };

  /** 201 for POST /workflows, 200 for the reads. */
  const success = (method: string) => (method === 'POST' ? 201 : 200);

  /** Polls until every route succeeds (recovery is asynchronous: pools and clients reconnect). */
  const expectRecovered = async (deadlineMs = 30_000) => {
    const deadline = Date.now() + deadlineMs;
    let answers: [string, number][];
    do {
      answers = [];
      for (const [method, path, body] of routes) answers.push([`${method} ${path}`, (await call(method, path, body)).status]);
      if (answers.every(([label, s]) => s === success(label.split(' ')[0] ?? ''))) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    } while (Date.now() < deadline);
    expect(answers).toEqual(routes.map(([method, path]) => [`${method} ${path}`, success(method)]));
  };

  /** Every route answers 503 problem+json naming `dependency`, with Retry-After, in bounded time, and leaks no address. */
  const expectDependencyUnavailable = async (dependency: 'postgres' | 'redis', only?: (path: string) => boolean) => {
    for (const [method, path, body] of routes.filter(([, p]) => only?.(p) ?? true)) {
      const answer = await call(method, path, body);
      const label = `${method} ${path}`;
      expect([label, answer.status, answer.contentType, answer.body['type'], answer.body['dependency']]).toEqual([
        label,
        503,
        'application/problem+json; charset=utf-8',
        'urn:problem:dependency-unavailable',
        dependency,
      ]);
      expect([label, Number(answer.retryAfter)]).toEqual([label, expect.any(Number)]);
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect([label, answer.ms < ANSWER_WITHIN_MS]).toEqual([label, true]);
      expect(answer.text).not.toMatch(/127\.0\.0\.1|postgres:\/\/|redis:\/\/|ECONNREFUSED|errorId/);
    }
  };

  beforeAll(async () => {
    const redisUrl = await requireRedis();
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    postgres = await TcpProxy.forUrl(database.url).start();
    redis = await TcpProxy.forUrl(redisUrl).start();
    const logDestination = new (await import('node:stream')).Writable({
      write(chunk: Buffer, _encoding, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    });
    ({ running } = await startApi({
      shared: database,
      logDestination,
      env: {
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        DATABASE_URL: postgres.rewrite(database.url),
        DATABASE_CONNECT_TIMEOUT_MS: '1000',
        REDIS_URL: redis.rewrite(redisUrl),
        REDIS_KEY_PREFIX: `test-${randomUUID()}`,
        EVENT_INGEST_IN_API: 'true',
      },
    }));
    admin = (await createTestKey(database.url, 'admin')).headers;
    const created = await call('POST', '/workflows', { name: 'outage-1', spec });
    expect(created.status).toBe(201);
    const workflowId = created.body['workflowId'] as string;
    expect((await call('POST', `/workflows/${workflowId}/versions/1/publish`)).status).toBe(200);
    const ran = await call('POST', `/workflows/${workflowId}/executions`, { mode: 'sync' });
    expect([ran.status, ran.body['status']]).toEqual([200, 'completed']);
    executionId = ran.body['executionId'] as string;
    const now = new Date().toISOString();
    const conversation = {
      v: 1,
      gateway: 'africastalking',
      serviceCode: '*384*1#',
      workflowId,
      version: 1,
      environment: 'production',
      executionId,
      continuation: null,
      screen: null,
      lastHop: { key: 'k', reply: { kind: 'end', text: 'Bye' } },
      hops: 1,
    };
    await running.app
      .get<SessionStore>(SESSION_STORE)
      .commit({ sessionId: 'outage-session-1', type: 'ussd', msisdn: '+254712000222', data: conversation, createdAt: now, lastActivityAt: now, isActive: true }, { expectedRevision: null });
    let n = 1;
    routes = [
      ['GET', '/workflows'],
      ['POST', '/workflows', { get name() { return `outage-${++n}`; }, spec }],
      ['GET', '/executions'],
      ['GET', `/executions/${executionId}`],
      ['GET', '/sessions?msisdn=%2B254712000222'],
      ['GET', '/sessions/outage-session-1'],
      ['GET', '/audit'],
      ['GET', '/secrets'],
    ];
    // The executions list is written asynchronously (events): wait until every route answers as it should.
    await expectRecovered().catch(() => undefined);
  }, 120_000);

  afterAll(async () => {
    await running?.app.close();
    await postgres?.stop();
    await redis?.stop();
    await database?.drop();
  });

  it('every route answers 200 with both dependencies up (the baseline the cuts are compared to)', async () => {
    await expectRecovered();
  }, 60_000);

  it('PostgreSQL cut: 503 naming postgres, with Retry-After, on every route that needs it; 200 again once it is back', async () => {
    await postgres.cut();
    try {
      // The sessions routes read Redis; they need PostgreSQL only for what the key's cache lacks.
      await expectDependencyUnavailable('postgres', (path) => !path.startsWith('/sessions'));
      for (const path of ['/sessions?msisdn=%2B254712000222', '/sessions/outage-session-1']) {
        const answer = await call('GET', path);
        expect([path, [200, 503].includes(answer.status)]).toEqual([path, true]);
      }
    } finally {
      await postgres.restore();
    }
    await expectRecovered();
    const lines = logs.filter((line) => line.includes('dependency unavailable'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line).not.toMatch(/postgres:\/\/|redis:\/\//);
  }, 120_000);

  it('Redis cut: 503 naming redis, with Retry-After, on the routes that read it (sessions), never a 500 elsewhere; 200 again once it is back', async () => {
    await redis.cut();
    try {
      await expectDependencyUnavailable('redis', (path) => path.startsWith('/sessions'));
      // Not a timing bound but the mechanism: the shared client refuses a command at once while
      // disconnected instead of holding it for a reconnection attempt (what took 2-4 s before).
      const refused = await running.app
        .get<Redis>(REDIS_CLIENT)
        .get('outage-probe')
        .then(
          () => 'answered',
          (error: Error) => error.message,
        );
      expect(refused).toBe("Stream isn't writeable and enableOfflineQueue options is false");
      for (const [method, path, body] of routes.filter(([, p]) => !p.startsWith('/sessions'))) {
        const answer = await call(method, path, body);
        expect([`${method} ${path}`, answer.status === success(method) || answer.status === 503]).toEqual([`${method} ${path}`, true]);
      }
    } finally {
      await redis.restore();
    }
    await expectRecovered();
  }, 120_000);

  it('both cut at once: 503 on every route, never a 500; then 200 again', async () => {
    await Promise.all([postgres.cut(), redis.cut()]);
    try {
      for (const [method, path, body] of routes) {
        const answer = await call(method, path, body);
        expect([`${method} ${path}`, answer.status, answer.body['type']]).toEqual([`${method} ${path}`, 503, 'urn:problem:dependency-unavailable']);
        expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      }
    } finally {
      await Promise.all([postgres.restore(), redis.restore()]);
    }
    await expectRecovered();
  }, 120_000);
});
