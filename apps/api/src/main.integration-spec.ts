import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireRedis, spawnApp, type AppProcess } from '@ussd/platform-testing';

/** The built entry point: the test target depends on the build, as `npm start` does. */
const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url));

describe('api process', () => {
  let app: AppProcess | undefined;
  afterEach(async () => {
    await app?.cleanup();
    app = undefined;
  });

  it('starts on embedded defaults (no DATABASE_URL, no REDIS_URL), is live and ready, and exits 0 on SIGTERM', async () => {
    const started = Date.now();
    app = await spawnApp(entry, { EMBEDDED_PG_DIR: 'pg' });
    const url = await app.listening;
    const [live, ready, startup] = await Promise.all(['live', 'ready', 'startup'].map((p) => fetch(`${url}/health/${p}`)));
    expect([live?.status, ready?.status, startup?.status]).toEqual([200, 200, 200]);
    expect(Date.now() - started).toBeLessThan(15_000);

    const boot = app.lines.find((l) => String(l['msg']).includes('listening on'));
    expect(boot?.['msg']).toBe(`api listening on ${url} | database: embedded PostgreSQL | redis: in-memory`);

    const index = (await (await fetch(url)).json()) as { service: string };
    expect(index.service).toBe('ussd-flow api');
    const openapi = (await (await fetch(`${url}/docs/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths)).toEqual(expect.arrayContaining(['/workflows', '/workflows/{workflowId}/versions/{version}/publish', '/health/ready']));
    expect((await fetch(`${url}/docs`)).status).toBe(200);

    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
    expect(app.lines.map((l) => l['msg'])).toEqual(expect.arrayContaining(['shutting down', 'shutdown complete']));
    // The embedded server went down with it: its port no longer answers.
    const pgPort = Number(app.lines.find((l) => l['msg'] === 'embedded PostgreSQL ready')?.['port']);
    await expect(fetch(`http://127.0.0.1:${pgPort}/`)).rejects.toThrow();
  });

  it('uses PostgreSQL and Redis when their URLs are set, and says so', async () => {
    const redisUrl = await requireRedis();
    const databaseUrl = process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    app = await spawnApp(entry, { DATABASE_URL: databaseUrl, REDIS_URL: redisUrl, DATABASE_MIGRATE_ON_BOOT: 'false' });
    const url = await app.listening;
    expect((await fetch(`${url}/health/ready`)).status).toBe(200);
    const boot = app.lines.find((l) => String(l['msg']).includes('listening on'));
    expect(boot?.['msg']).toBe(`api listening on ${url} | database: PostgreSQL | redis: Redis`);
    app.child.kill('SIGTERM');
    expect(await app.exited).toBe(0);
  });

  it('refuses to start on a bad value: one stderr line per variable, exit 78, nothing started', async () => {
    app = await spawnApp(entry, { PORT: 'eighty', REDIS_URL: 'http://cache', SHUTDOWN_GRACE_MS: '-5' });
    expect(await app.exited).toBe(78);
    expect(app.stderr().trim().split('\n')).toEqual([
      'Invalid configuration: PORT: expected an integer from 0 to 65535, got "eighty"',
      'Invalid configuration: REDIS_URL: expected a redis:// or rediss:// URL',
      'Invalid configuration: SHUTDOWN_GRACE_MS: expected an integer from 0 to 600000, got "-5"',
    ]);
    expect(app.lines).toEqual([]);
  });
});

/** The fatal lines an app logged: each failure must be exactly one, saying what failed and what to do. */
function fatalLines(app: AppProcess): unknown[] {
  return app.lines.filter((l) => l['level'] === 60).map((l) => l['msg']);
}

describe('api start-up failures: one line naming what failed and what to do, then exit 1', () => {
  let app: AppProcess | undefined;
  afterEach(async () => {
    await app?.cleanup();
    app = undefined;
  });

  it('PostgreSQL unreachable', async () => {
    app = await spawnApp(entry, { DATABASE_URL: 'postgres://postgres:secret@127.0.0.1:1/ussd' });
    expect(await app.exited).toBe(1);
    expect(fatalLines(app)).toEqual([
      'api could not start: PostgreSQL at postgres://postgres:***@127.0.0.1:1/ussd cannot be used (connect ECONNREFUSED 127.0.0.1:1): start PostgreSQL or fix DATABASE_URL (unset it to use the embedded PostgreSQL).',
    ]);
    expect(JSON.stringify(app.lines)).not.toContain('secret');
  });

  it('a database that does not exist', async () => {
    const server = new URL(process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres');
    server.pathname = '/no_such_database';
    app = await spawnApp(entry, { DATABASE_URL: server.toString() });
    expect(await app.exited).toBe(1);
    expect(fatalLines(app)).toEqual([
      `api could not start: PostgreSQL at ${server.toString()} cannot be used (database "no_such_database" does not exist): create the database (createdb no_such_database) or fix DATABASE_URL.`,
    ]);
  });

  it('the port is in use', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      app = await spawnApp(entry, { EMBEDDED_PG_DIR: 'pg', PORT: String(port) });
      expect(await app.exited).toBe(1);
      expect(fatalLines(app)).toEqual([`api could not start: port ${port} is in use (127.0.0.1:${port}; another instance?): stop it, or set PORT to a free port (PORT=0 picks one).`]);
      // The embedded server it had started went down with it.
      const pgPort = Number(app.lines.find((l) => l['msg'] === 'embedded PostgreSQL ready')?.['port']);
      await expect(fetch(`http://127.0.0.1:${pgPort}/`)).rejects.toThrow();
    } finally {
      blocker.close();
    }
  });

  it('the embedded data directory is held by another instance', async () => {
    const first = await spawnApp(entry, { EMBEDDED_PG_DIR: 'pg' });
    try {
      await first.listening;
      app = await spawnApp(entry, { EMBEDDED_PG_DIR: join(first.workDir, 'pg') });
      expect(await app.exited).toBe(1);
      expect(fatalLines(app)).toEqual([
        `api could not start: The embedded PostgreSQL data directory ${join(first.workDir, 'pg')} is in use by another instance (process ${first.child.pid}): stop it, or give this one its own EMBEDDED_PG_DIR, or set DATABASE_URL.`,
      ]);
      expect((await fetch(`${await first.listening}/health/ready`)).status).toBe(200); // the first is untouched
    } finally {
      await first.cleanup();
    }
  });

  it('the embedded data directory cannot be created', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ussd-blocked-'));
    try {
      writeFileSync(join(dir, 'blocked'), 'a file where a folder should be');
      app = await spawnApp(entry, { EMBEDDED_PG_DIR: join(dir, 'blocked', 'pg') });
      expect(await app.exited).toBe(1);
      expect(fatalLines(app)).toEqual([
        `api could not start: Cannot create the embedded PostgreSQL data directory ${join(dir, 'blocked', 'pg')} (EEXIST on ${join(dir, 'blocked')}): set EMBEDDED_PG_DIR to a writable folder, or set DATABASE_URL.`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Redis unreachable: starts, says so in one line, and reports not ready', async () => {
    app = await spawnApp(entry, { EMBEDDED_PG_DIR: 'pg', REDIS_URL: 'redis://127.0.0.1:1', HEALTH_CHECK_TIMEOUT_MS: '200' });
    const url = await app.listening;
    expect(app.lines.filter((l) => l['level'] === 40 && String(l['msg']).startsWith('Redis at')).map((l) => l['msg'])).toEqual([
      'Redis at redis://127.0.0.1:1 is not reachable at start-up (connect ECONNREFUSED 127.0.0.1:1): readiness answers 503 and the app keeps retrying until it is; start Redis or fix REDIS_URL.',
    ]);
    expect((await fetch(`${url}/health/ready`)).status).toBe(503);
  });
});

describe('openapi export', () => {
  it('writes openapi.json without any database or Redis', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ussd-openapi-'));
    try {
      const target = join(dir, 'openapi.json');
      const result = spawnSync(process.execPath, [fileURLToPath(new URL('../dist/export-openapi.js', import.meta.url)), target], {
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', REDIS_URL: 'redis://127.0.0.1:1' },
        timeout: 30_000,
      });
      expect(result.status).toBe(0);
      const document = JSON.parse(readFileSync(target, 'utf8')) as { openapi: string; paths: Record<string, Record<string, unknown>> };
      expect(document.openapi).toMatch(/^3\./);
      // Security: the schemes, and each operation's requirement (public ones say none: security []).
      const operations = document as unknown as {
        components: { securitySchemes: Record<string, unknown> };
        paths: Record<string, Record<string, { security?: unknown; 'x-required-role'?: string; 'x-public'?: string }>>;
      };
      expect(operations.components.securitySchemes['apiKey']).toMatchObject({ type: 'http', scheme: 'bearer' });
      expect(operations.components.securitySchemes['jwt']).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
      expect(operations.paths['/workflows']?.['post']).toMatchObject({ security: [{ apiKey: [] }, { jwt: [] }], 'x-required-role': 'editor' });
      expect(operations.paths['/workflows/{workflowId}/versions/{version}/publish']?.['post']?.['x-required-role']).toBe('publisher');
      expect(operations.paths['/health/ready']?.['get']?.security).toEqual([]);
      expect(operations.paths['/health/ready']?.['get']?.['x-public']).toMatch(/probes/);
      for (const [path, methods] of Object.entries(operations.paths)) {
        for (const [method, operation] of Object.entries(methods)) {
          expect([path, method, operation.security]).toEqual([path, method, operation['x-public'] ? [] : [{ apiKey: [] }, { jwt: [] }]]);
        }
      }
      expect(Object.keys(document.paths['/workflows'] ?? {})).toEqual(expect.arrayContaining(['get', 'post']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
