import { Body, Controller, Module, Post } from '@nestjs/common';
import { Agent } from 'node:http';
import { migrateDatabase } from '@ussd/platform-database';
import { createTestDatabase, requireRedis, silentLogger, type TestDatabase, uploadBody, type UploadResult } from '@ussd/platform-testing';
import { discardLimitsFor, discardUnreadBody } from './body-drain.js';
import { bootstrap, type RunningApp } from './bootstrap.js';
import { PlatformModule } from './platform.module.js';

@Controller('test')
class EchoController {
  @Post('echo')
  echo(@Body() body: unknown) {
    return { received: typeof body };
  }
}

@Module({})
class EchoRootModule {}

const LIMIT = 1024 * 1024;
const FIVE_MB = 5 * 1000 * 1000;

/** Sequential: 20 tries that each race a 5 MB upload against the 413, on a loaded machine too. */
async function tries(count: number, attempt: () => Promise<UploadResult>): Promise<UploadResult[]> {
  const results: UploadResult[] = [];
  for (let i = 0; i < count; i += 1) results.push(await attempt());
  return results;
}

function summary(results: readonly UploadResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) {
    const key = result.clientError ?? String(result.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe('request bodies over HTTP_BODY_LIMIT_BYTES, over real sockets', () => {
  let database: TestDatabase;
  let running: RunningApp;
  let base: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    running = await bootstrap({
      defaults: { appName: 'probe', port: 0 },
      env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', HTTP_BODY_LIMIT_BYTES: String(LIMIT), DATABASE_URL: database.url, REDIS_URL: await requireRedis() },
      rootModule: (context) => ({ module: EchoRootModule, imports: [PlatformModule.forRoot(context)], controllers: [EchoController] }),
      exit: () => undefined,
      handleSignals: false,
    });
    base = running.url;
  });

  afterAll(async () => {
    await running?.app.close();
    await database?.drop();
  });

  it('a 5 MB body with Content-Length gets its 413 problem document in 20 of 20 tries, never a reset', async () => {
    const results = await tries(20, () => uploadBody(`${base}/test/echo`, { bytes: FIVE_MB }));
    expect(summary(results)).toEqual({ '413': 20 });
    for (const result of results) {
      expect(result.headers['content-type']).toContain('application/problem+json');
      expect(JSON.parse(result.body)).toMatchObject({ status: 413, title: 'Payload too large' });
    }
  });

  it('a 5 MB chunked body (no Content-Length) gets its 413 in 20 of 20 tries too', async () => {
    const results = await tries(20, () => uploadBody(`${base}/test/echo`, { bytes: FIVE_MB, chunked: true }));
    expect(summary(results)).toEqual({ '413': 20 });
  });

  it('a 5 MB body to an unknown route gets its 413 too, not a reset', async () => {
    const results = await tries(5, () => uploadBody(`${base}/no/such/route`, { bytes: FIVE_MB }));
    expect(summary(results)).toEqual({ '413': 5 });
  });

  it('after a drained 413 a keep-alive connection stays open and serves the next request', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const refused = await uploadBody(`${base}/test/echo`, { bytes: FIVE_MB, agent });
      expect(refused.status).toBe(413);
      expect(refused.headers['connection']).not.toBe('close');
      const next = await uploadBody(`${base}/test/echo`, { bytes: 2, fill: '1', agent });
      expect([next.status, next.reusedSocket, next.clientError]).toEqual([201, true, undefined]);
    } finally {
      agent.destroy();
    }
  });

  it('a client that asked to close gets the 413 with Connection: close, after its body', async () => {
    const refused = await uploadBody(`${base}/test/echo`, { bytes: FIVE_MB });
    expect([refused.status, refused.headers['connection'], refused.clientError]).toEqual([413, 'close', undefined]);
  });

  it('a body just under the limit is still accepted', async () => {
    const body = JSON.stringify({ a: 'x'.repeat(LIMIT - 100) });
    expect(body.length).toBeLessThan(LIMIT);
    const response = await fetch(`${base}/test/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ received: 'object' });
  });

  it('a declared body over the discard bound is answered at once with Connection: close, without being read', async () => {
    const { createConnection } = await import('node:net');
    const { port } = new URL(base);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port: Number(port) });
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
      socket.on('close', () => resolve(text));
      socket.on('error', reject);
      socket.write(`POST /test/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${discardLimitsFor(LIMIT).maxBytes + 1}\r\n\r\n{"a":"`);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.toLowerCase()).toContain('connection: close');
  });
});

describe('discardUnreadBody bounds', () => {
  it('gives up on a body that keeps coming past the byte bound, and on a client that stalls past the timeout', async () => {
    const { createServer } = await import('node:http');
    const outcomes: string[] = [];
    const server = createServer((request, response) => {
      const limits = request.url === '/slow' ? { maxBytes: 1024 * 1024, timeoutMs: 200 } : { maxBytes: 64 * 1024, timeoutMs: 5000 };
      void discardUnreadBody(request, limits).then((outcome) => {
        outcomes.push(outcome);
        response.writeHead(413, { connection: 'close' }).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const tooLong = await uploadBody(`http://127.0.0.1:${port}/long`, { bytes: 2 * 1024 * 1024, chunked: true });
      const { request } = await import('node:http');
      const stalled = await new Promise<number>((resolve) => {
        const slow = request(`http://127.0.0.1:${port}/slow`, { method: 'POST', agent: false, headers: { 'content-length': '1000' } });
        slow.on('response', (response) => resolve(response.statusCode ?? 0));
        slow.on('error', () => resolve(0));
        slow.write('only a part of the body');
      });
      expect(outcomes).toEqual(['too-long', 'too-slow']);
      expect(stalled).toBe(413);
      expect([0, 413]).toContain(tooLong.status);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
