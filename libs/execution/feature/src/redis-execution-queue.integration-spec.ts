import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { requireRedis } from '@ussd/platform-testing';
import { migrateDatabase } from '@ussd/platform-database';
import { createTestDatabase, createTestKey, silentLogger, type TestDatabase } from '@ussd/platform-testing';
import { AuthModule } from '@ussd/platform-auth';
import { bootstrap, PlatformModule, type RunningApp } from '@ussd/platform-http';
import { WorkflowFeatureModule } from '@ussd/workflow-feature';
import { Module } from '@nestjs/common';
import { ExecutionFeatureModule } from './execution-feature.module.js';

@Module({})
class TestRoot {}

/**
 * Async executions through the durable Redis queue (BullMQ), against real Redis and
 * PostgreSQL. Each test run uses its own REDIS_KEY_PREFIX, so parallel runs never share jobs.
 */
describe('async executions through the Redis queue', () => {
  let database: TestDatabase;
  let auth: { authorization: string };
  let redisUrl: string;
  let service: Server;
  let serviceUrl: string;
  let active = 0;
  let maxActive = 0;
  const apps: RunningApp[] = [];

  beforeAll(async () => {
    redisUrl = await requireRedis();
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    ({ headers: auth } = await createTestKey(database.url, 'admin'));
    service = createServer((_req, res) => {
      active += 1;
      maxActive = Math.max(maxActive, active);
      setTimeout(() => {
        active -= 1;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      }, 300).unref();
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const address = service.address();
    serviceUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    for (const app of apps) await app.app.close().catch(() => undefined);
    service?.closeAllConnections();
    await new Promise((resolve) => service?.close(resolve));
    await database?.drop();
  });

  /** Each test gets its own queue (prefix), so no process from another test takes its jobs. */
  let prefix = '';
  beforeEach(() => {
    prefix = `test-${randomUUID().slice(0, 8)}`;
  });

  async function start(env: Record<string, string> = {}): Promise<RunningApp> {
    const running = await bootstrap({
      defaults: { appName: 'test', port: 0 },
      // HTTP_ALLOWED_HOSTS: the service listens on 127.0.0.1, which http.request refuses unless the allowlist names it.
      env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: database.url, REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, EXECUTION_EVENT_FLUSH_MS: '10', HTTP_ALLOWED_HOSTS: '127.0.0.1', ...env },
      rootModule: (context) => ({ module: TestRoot, imports: [PlatformModule.forRoot(context), AuthModule.forRoot({ developmentKey: false }), WorkflowFeatureModule, ExecutionFeatureModule] }),
      handleSignals: false,
      exit: () => undefined,
    });
    apps.push(running);
    return running;
  }

  const post = async (base: string, path: string, body?: unknown) => {
    const response = await fetch(`${base}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  async function publish(base: string): Promise<string> {
    const spec = {
      specVersion: 1,
      settings: { executionTimeoutMs: 20_000, maxSteps: 10 },
      triggers: [{ type: 'http', entry: 'call' }],
      nodes: [
        { id: 'call', type: 'http.request', method: 'GET', url: `${serviceUrl}/slow`, next: 'done' },
        { id: 'done', type: 'end', output: 'trigger.n' },
      ],
    };
    const created = await post(base, '/workflows', { name: 'queued', spec });
    await post(base, `/workflows/${created.body['workflowId']}/versions/1/publish`);
    return created.body['workflowId'] as string;
  }

  async function statusOf(base: string, executionId: string): Promise<string | undefined> {
    const response = await fetch(`${base}/executions/${executionId}`, { headers: auth });
    return response.status === 200 ? ((await response.json()) as { status: string }).status : undefined;
  }

  async function until(check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('keeps accepted jobs in Redis while no worker runs, and another process runs them later', async () => {
    const producer = await start({ EXECUTION_WORKER_CONCURRENCY: '0' });
    const workflowId = await publish(producer.url);
    const accepted = await Promise.all([1, 2, 3].map((n) => post(producer.url, `/workflows/${workflowId}/executions`, { mode: 'async', payload: { n } })));
    expect(accepted.map((a) => a.status)).toEqual([202, 202, 202]);
    await new Promise((r) => setTimeout(r, 500));
    for (const a of accepted) expect(await statusOf(producer.url, a.body['executionId'] as string)).toBeUndefined(); // nobody ran it
    await producer.app.close(); // the producer goes away; the jobs do not

    const worker = await start();
    for (const a of accepted) await until(async () => (await statusOf(worker.url, a.body['executionId'] as string)) === 'completed');
  });

  it('holds the per-workflow limit across processes, and cancels a job still waiting', async () => {
    active = 0;
    maxActive = 0;
    const [a, b] = [await start({ EXECUTION_CONCURRENCY_PER_WORKFLOW: '1' }), await start({ EXECUTION_CONCURRENCY_PER_WORKFLOW: '1' })];
    const workflowId = await publish(a.url);
    const runs = await Promise.all([1, 2, 3, 4].map((n) => post(n % 2 ? a.url : b.url, `/workflows/${workflowId}/executions`, { mode: 'async', payload: { n } })));
    const last = runs[3]!.body['executionId'] as string;
    const canceled = await post(a.url, `/executions/${last}/cancel`);
    expect(canceled.status).toBe(200);
    expect(canceled.body['status']).toBe('canceled');
    for (const run of runs.slice(0, 3)) await until(async () => (await statusOf(a.url, run.body['executionId'] as string)) === 'completed');
    await until(async () => (await statusOf(a.url, last)) === 'canceled');
    expect(maxActive).toBe(1);
  });
});
