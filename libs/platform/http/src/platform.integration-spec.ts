import { Body, Controller, Get, Module, Post, Query } from '@nestjs/common';
import { PassThrough } from 'node:stream';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { migrateDatabase } from '@ussd/platform-database';
import { createTestDatabase, requireRedis, silentLogger, TcpProxy, type TestDatabase } from '@ussd/platform-testing';
import { bootstrap, type RunningApp } from './bootstrap.js';
import { PlatformModule } from './platform.module.js';

let release: () => void = () => undefined;

@Controller('test')
class ProbeController {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @Post('echo')
  echo(@Body() body: unknown) {
    return { received: body };
  }

  @Get('boom')
  boom(): never {
    throw new Error('secret internal detail');
  }

  /** Holds the request open until the test releases it. */
  @Get('slow')
  async slow(@Query('ms') ms?: string) {
    await new Promise<void>((resolve) => {
      release = resolve;
      if (ms) setTimeout(resolve, Number(ms));
    });
    const [row] = (await this.dataSource.query('SELECT 1 AS ok')) as { ok: number }[];
    return { done: true, db: row?.ok };
  }
}

@Module({})
class ProbeRootModule {}

interface Started {
  readonly running: RunningApp;
  readonly exits: number[];
  readonly lines: Record<string, unknown>[];
}

async function start(env: Record<string, string>): Promise<Started> {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  stream.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  const exits: number[] = [];
  const running = await bootstrap({
    defaults: { appName: 'probe', port: 0 },
    env: { HOST: '127.0.0.1', PORT: '0', LOG_FORMAT: 'json', LOG_LEVEL: 'debug', HEALTH_CHECK_TIMEOUT_MS: '300', HTTP_BODY_LIMIT_BYTES: '2048', ...env },
    rootModule: (context) => ({ module: ProbeRootModule, imports: [PlatformModule.forRoot(context)], controllers: [ProbeController] }),
    exit: (code) => exits.push(code),
    logDestination: stream,
    handleSignals: false,
  });
  return { running, exits, lines };
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('condition not met in time');
}

describe('platform over HTTP, against real PostgreSQL and Redis', () => {
  let database: TestDatabase;
  let redisProxy: TcpProxy;
  let pgProxy: TcpProxy;
  let app: Started;
  let base: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    const redisUrl = await requireRedis();
    redisProxy = await TcpProxy.forUrl(redisUrl).start();
    pgProxy = await TcpProxy.forUrl(database.url).start();
    app = await start({ DATABASE_URL: pgProxy.rewrite(database.url), REDIS_URL: redisProxy.rewrite(redisUrl) });
    base = app.running.url;
  });

  afterAll(async () => {
    await app?.running.app.close();
    await redisProxy?.stop();
    await pgProxy?.stop();
    await database?.drop();
  });

  describe('health probes', () => {
    it('live, ready and startup answer 200 when everything is up', async () => {
      for (const probe of ['live', 'ready', 'startup']) {
        const response = await fetch(`${base}/health/${probe}`);
        expect([probe, response.status]).toEqual([probe, 200]);
      }
      const ready = (await (await fetch(`${base}/health/ready`)).json()) as { details: Record<string, { status: string }> };
      expect(Object.keys(ready.details)).toEqual(['lifecycle', 'postgres', 'redis']);
    });

    it('Redis unreachable: ready 503 naming redis within the check timeout, live 200; recovery: ready 200 without restart', async () => {
      await redisProxy.cut();
      try {
        const started = Date.now();
        const ready = await fetch(`${base}/health/ready`);
        const elapsed = Date.now() - started;
        expect(ready.status).toBe(503);
        expect(ready.headers.get('content-type')).toContain('application/problem+json');
        const body = (await ready.json()) as { failing: string[]; detail: string; error: Record<string, unknown> };
        expect(body.failing).toEqual(['redis']);
        expect(body.detail).toBe('failing: redis');
        expect(elapsed).toBeLessThan(3000); // bounded by HEALTH_CHECK_TIMEOUT_MS (300), not by TCP timeouts
        expect((await fetch(`${base}/health/live`)).status).toBe(200);
      } finally {
        await redisProxy.restore();
      }
      await eventually(async () => (await fetch(`${base}/health/ready`)).status === 200);
    });

    it('PostgreSQL unreachable: ready 503 naming postgres, live 200; recovery without restart', async () => {
      await pgProxy.cut();
      try {
        const ready = await fetch(`${base}/health/ready`);
        expect(ready.status).toBe(503);
        expect(((await ready.json()) as { failing: string[] }).failing).toEqual(['postgres']);
        expect((await fetch(`${base}/health/live`)).status).toBe(200);
      } finally {
        await pgProxy.restore();
      }
      await eventually(async () => (await fetch(`${base}/health/ready`)).status === 200);
    });
  });

  describe('errors are problem+json', () => {
    async function problem(response: Response) {
      expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      return (await response.json()) as Record<string, unknown>;
    }

    it('404 for an unknown route', async () => {
      const response = await fetch(`${base}/no/such/route?x=1`);
      expect(response.status).toBe(404);
      expect(await problem(response)).toMatchObject({ type: 'about:blank', title: 'Not found', status: 404, instance: '/no/such/route' });
    });

    it('400 for malformed JSON', async () => {
      const response = await fetch(`${base}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":' });
      expect(response.status).toBe(400);
      expect(await problem(response)).toMatchObject({ status: 400 });
    });

    it('413 for a body over HTTP_BODY_LIMIT_BYTES', async () => {
      const response = await fetch(`${base}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'x'.repeat(10_000) }) });
      expect(response.status).toBe(413);
      expect(await problem(response)).toMatchObject({ status: 413, title: 'Payload too large' });
    });

    it('415 for an unsupported media type', async () => {
      const response = await fetch(`${base}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
      expect(response.status).toBe(415);
      expect(await problem(response)).toMatchObject({ status: 415 });
    });

    it('500 carries an error id that is in the log, and never the message or a stack', async () => {
      const response = await fetch(`${base}/test/boom`);
      expect(response.status).toBe(500);
      const body = await problem(response);
      const text = JSON.stringify(body);
      expect(text).not.toContain('secret internal detail');
      expect(text).not.toMatch(/\bat .+:\d+:\d+/);
      expect(body['errorId']).toMatch(/^[0-9a-f-]{36}$/);
      const logged = app.lines.find((l) => l['errorId'] === body['errorId']);
      expect(logged).toMatchObject({ msg: 'unhandled error', requestId: body['requestId'] });
      expect(JSON.stringify(logged)).toContain('secret internal detail');
    });

    it('accepts valid JSON and echoes it (the happy path of the probe route)', async () => {
      const response = await fetch(`${base}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,"two"]}' });
      expect(await response.json()).toEqual({ received: { a: [1, 'two'] } });
    });
  });

  describe('request ids', () => {
    it("keeps a caller's safe X-Request-Id, echoes it, and stamps it on the request's log lines", async () => {
      const response = await fetch(`${base}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'abc-123.x' }, body: '{}' });
      expect(response.headers.get('x-request-id')).toBe('abc-123.x');
      await eventually(async () => app.lines.some((l) => l['requestId'] === 'abc-123.x' && l['msg'] === 'request completed'));
    });

    it.each([
      ['too long', 'a'.repeat(300)],
      ['with spaces and quotes', 'x" injected="1'],
      ['with unicode', 'ü-123'],
    ])('replaces a hostile X-Request-Id (%s) with a fresh UUID', async (_name, given) => {
      const response = await fetch(`${base}/health/live`, { headers: { 'x-request-id': given } });
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });
  });
});

describe('graceful shutdown', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
  });
  afterAll(async () => database?.drop());

  it('drains readiness, refuses new connections, finishes the in-flight request, closes the pool, exits 0', async () => {
    const { running, exits, lines } = await start({ DATABASE_URL: database.url, SHUTDOWN_DRAIN_DELAY_MS: '300', SHUTDOWN_GRACE_MS: '5000' });
    const dataSource = running.app.get(DataSource);
    const inFlight = fetch(`${running.url}/test/slow`);
    await new Promise((r) => setTimeout(r, 150)); // the request is now inside the handler

    const stopping = running.shutdown('SIGTERM');
    // During the drain delay the server still answers, and readiness says 503.
    const ready = await fetch(`${running.url}/health/ready`, { headers: { connection: 'close' } });
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { failing: string[] }).failing).toEqual(['lifecycle']);

    await new Promise((r) => setTimeout(r, 400)); // past the drain delay: the server has stopped accepting
    await expect(fetch(`${running.url}/health/live`, { headers: { connection: 'close' } })).rejects.toThrow();

    release();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ done: true, db: 1 });
    await stopping;
    expect(exits).toEqual([0]);
    expect(dataSource.isInitialized).toBe(false);
    expect(lines.map((l) => l['msg'])).toEqual(expect.arrayContaining(['shutting down', 'shutdown complete']));
  });

  it('exits 1 and says so when in-flight work outlives SHUTDOWN_GRACE_MS', async () => {
    const { running, exits, lines } = await start({ DATABASE_URL: database.url, SHUTDOWN_GRACE_MS: '300' });
    const inFlight = fetch(`${running.url}/test/slow?ms=1500`).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    const stopping = running.shutdown('SIGTERM');
    await eventually(async () => exits.length > 0, 3000);
    expect(exits[0]).toBe(1);
    expect(lines.some((l) => l['msg'] === 'grace period exceeded; exiting with work unfinished')).toBe(true);
    await inFlight;
    await stopping;
  });
});
