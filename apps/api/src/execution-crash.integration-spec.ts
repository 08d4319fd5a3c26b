import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { migrateDatabase } from '@ussd/platform-database';
import { type AppProcess, createTestDatabase, createTestKey, requireRedis, silentLogger, spawnApp, type TestDatabase } from '@ussd/platform-testing';

const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/**
 * A worker killed with SIGKILL in the middle of an async execution: the job stays in Redis,
 * its lock lapses, and another api process runs it to completion.
 */
describe('async execution survives a crashed worker (Redis queue)', () => {
  let database: TestDatabase;
  let service: Server;
  let serviceUrl: string;
  let calls = 0;
  const apps: AppProcess[] = [];

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    service = createServer((_req, res) => {
      calls += 1;
      // The first call hangs (the worker will be killed meanwhile); later calls answer at once.
      if (calls === 1) return;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const address = service.address();
    serviceUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });
  afterAll(async () => {
    for (const app of apps) await app.cleanup();
    service?.closeAllConnections();
    await new Promise((resolve) => service?.close(resolve));
    await database?.drop();
  });

  it('re-runs the job in another process after the first one is killed mid-run', async () => {
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: await requireRedis(),
      REDIS_KEY_PREFIX: `crash-${randomUUID().slice(0, 8)}`,
      EXECUTION_JOB_LOCK_MS: '1500',
      EXECUTION_EVENT_FLUSH_MS: '10',
      // Events go to the Redis Stream; with no log-ingester here, the api consumes them itself.
      EVENT_INGEST_IN_API: 'true',
      // The service listens on 127.0.0.1, which http.request refuses unless the allowlist names it.
      HTTP_ALLOWED_HOSTS: '127.0.0.1',
    };
    const first = await spawnApp(entry, env);
    apps.push(first);
    const url = await first.listening;
    const { headers: auth } = await createTestKey(database.url, 'editor');
    const headers = { ...auth, 'content-type': 'application/json' };
    const spec = {
      specVersion: 1,
      settings: { executionTimeoutMs: 60_000, maxSteps: 10 },
      triggers: [{ type: 'http', entry: 'call' }],
      nodes: [
        { id: 'call', type: 'http.request', method: 'GET', url: `${serviceUrl}/work`, timeoutMs: 30_000, next: 'done' },
        { id: 'done', type: 'end', output: "'finished'" },
      ],
    };
    const created = (await (await fetch(`${url}/workflows`, { method: 'POST', headers, body: JSON.stringify({ name: 'crash', spec }) })).json()) as { workflowId: string };
    await fetch(`${url}/workflows/${created.workflowId}/versions/1/publish`, { method: 'POST', headers: (await createTestKey(database.url, 'publisher', 'default', 'test-publisher')).headers });
    const accepted = (await (await fetch(`${url}/workflows/${created.workflowId}/executions`, { method: 'POST', headers, body: '{"mode":"async"}' })).json()) as { executionId: string };

    const deadline = Date.now() + 5000;
    while (calls === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(calls).toBe(1); // the first worker is inside the execution
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await spawnApp(entry, env);
    apps.push(second);
    const secondUrl = await second.listening;
    const until = Date.now() + 30_000;
    let status: string | undefined;
    while (status !== 'completed' && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 100));
      const response = await fetch(`${secondUrl}/executions/${accepted.executionId}`, { headers: auth });
      if (response.status === 200) status = ((await response.json()) as { status: string }).status;
    }
    expect({ status, calls }).toEqual({ status: 'completed', calls: 2 });
  }, 60_000);
});
