import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { spawnApp, type AppProcess } from '@ussd/platform-testing';

const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe('log-ingester process', () => {
  let app: AppProcess | undefined;
  afterEach(async () => {
    await app?.cleanup();
    app = undefined;
  });

  it('starts on embedded defaults with its health probes, and exits 0 on SIGTERM', async () => {
    app = await spawnApp(entry, { EMBEDDED_PG_DIR: 'pg' });
    const url = await app.listening;
    for (const probe of ['live', 'ready', 'startup']) expect([probe, (await fetch(`${url}/health/${probe}`)).status]).toEqual([probe, 200]);
    expect(app.lines.some((l) => l['msg'] === `log-ingester listening on ${url} | database: embedded PostgreSQL | redis: in-memory`)).toBe(true);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  });

  it('reports not ready (503, naming redis) while Redis is unreachable, and stays live', async () => {
    app = await spawnApp(entry, { EMBEDDED_PG_DIR: 'pg', REDIS_URL: 'redis://127.0.0.1:1', HEALTH_CHECK_TIMEOUT_MS: '200' });
    const url = await app.listening;
    const ready = await fetch(`${url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { failing: string[] }).failing).toEqual(['redis']);
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  });

  it('says in one line what failed and what to do when it cannot start, and exits 1 (PostgreSQL unreachable, port in use)', async () => {
    app = await spawnApp(entry, { DATABASE_URL: 'postgres://ingester:pw@127.0.0.1:1/logs' });
    expect(await app.exited).toBe(1);
    expect(app.lines.filter((l) => l['level'] === 60).map((l) => l['msg'])).toEqual([
      'log-ingester could not start: PostgreSQL at postgres://ingester:***@127.0.0.1:1/logs cannot be used (connect ECONNREFUSED 127.0.0.1:1): start PostgreSQL or fix DATABASE_URL (unset it to use the embedded PostgreSQL).',
    ]);
    await app.cleanup();

    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      app = await spawnApp(entry, { EMBEDDED_PG_DIR: 'pg', PORT: String(port) });
      expect(await app.exited).toBe(1);
      expect(app.lines.filter((l) => l['level'] === 60).map((l) => l['msg'])).toEqual([
        `log-ingester could not start: port ${port} is in use (127.0.0.1:${port}; another instance?): stop it, or set PORT to a free port (PORT=0 picks one).`,
      ]);
    } finally {
      blocker.close();
    }
  });
});
