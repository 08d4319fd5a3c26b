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
});
