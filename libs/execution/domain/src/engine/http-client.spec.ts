import { gzipSync } from 'node:zlib';
import { createHttpClient, HttpClientError, type ClosableHttpClient } from './http-client.js';
import { closedPort, startServer, type TestServer } from './http.test-helpers.js';

describe('createHttpClient (node:http, real sockets)', () => {
  let server: TestServer;
  let client: ClosableHttpClient;

  beforeAll(async () => {
    server = await startServer({
      '/echo': (req, res, body) => res.writeHead(201, { 'content-type': 'application/json', 'x-seen': req.headers['x-key'] ?? '' }).end(JSON.stringify({ method: req.method, body })),
      '/slow': (_req, res) => setTimeout(() => res.writeHead(200).end('late'), 2_000).unref(),
      '/stall-body': (_req, res) => {
        res.writeHead(200);
        res.write('partial');
      },
      '/big': (_req, res) => res.writeHead(200).end('x'.repeat(5_000)),
      '/big-chunked': (_req, res) => {
        res.writeHead(200, { 'transfer-encoding': 'chunked' });
        for (let i = 0; i < 10; i += 1) res.write('y'.repeat(500));
        res.end();
      },
      '/gzip-bomb': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('z'.repeat(100_000))),
      '/gzip': (_req, res) => res.writeHead(200, { 'content-encoding': 'gzip' }).end(gzipSync('hello')),
    });
    // The test server listens on 127.0.0.1, which the client refuses unless its allowlist names it.
    client = createHttpClient({ connectTimeoutMs: 1_000, maxResponseBytes: 4_096, allowedHosts: ['127.0.0.1'] });
  });

  afterAll(async () => {
    client.close();
    await server.close();
  });

  const code = (promise: Promise<unknown>) =>
    promise.then(
      () => 'resolved',
      (error: unknown) => (error instanceof HttpClientError ? error.code : `other: ${String(error)}`),
    );

  it('sends method, headers and body, and returns status, lower-case headers and the text', async () => {
    const response = await client.request({ method: 'POST', url: `${server.url}/echo`, headers: { 'X-Key': 'k1' }, body: '{"a":1}', timeoutMs: 2_000 });
    expect(response).toMatchObject({ status: 201, headers: { 'content-type': 'application/json', 'x-seen': 'k1' } });
    expect(JSON.parse(response.body)).toEqual({ method: 'POST', body: '{"a":1}' });
  });

  it('bounds the whole exchange: headers that never come, a body that never ends', async () => {
    expect(await code(client.request({ method: 'GET', url: `${server.url}/slow`, headers: {}, timeoutMs: 100 }))).toBe('timeout');
    expect(await code(client.request({ method: 'GET', url: `${server.url}/stall-body`, headers: {}, timeoutMs: 100 }))).toBe('timeout');
  });

  it('caps the body by declared length, by counted chunks, and after decompression', async () => {
    expect(await code(client.request({ method: 'GET', url: `${server.url}/big`, headers: {}, timeoutMs: 2_000 }))).toBe('too_large');
    expect(await code(client.request({ method: 'GET', url: `${server.url}/big-chunked`, headers: {}, timeoutMs: 2_000 }))).toBe('too_large');
    expect(await code(client.request({ method: 'GET', url: `${server.url}/gzip-bomb`, headers: {}, timeoutMs: 2_000 }))).toBe('too_large');
    expect((await client.request({ method: 'GET', url: `${server.url}/gzip`, headers: {}, timeoutMs: 2_000 })).body).toBe('hello');
  });

  it('reports a refused connection as network, and refuses non-http URLs and bad headers up front', async () => {
    expect(await code(client.request({ method: 'GET', url: `http://127.0.0.1:${await closedPort()}/`, headers: {}, timeoutMs: 2_000 }))).toBe('network');
    expect(await code(client.request({ method: 'GET', url: 'file:///etc/passwd', headers: {}, timeoutMs: 2_000 }))).toBe('invalid_request');
    expect(await code(client.request({ method: 'GET', url: 'not a url', headers: {}, timeoutMs: 2_000 }))).toBe('invalid_request');
    expect(await code(client.request({ method: 'GET', url: `${server.url}/echo`, headers: { 'x-a': 'a\r\nb: c' }, timeoutMs: 2_000 }))).toBe('invalid_request');
  });

  it('stops when the signal aborts', async () => {
    const controller = new AbortController();
    const pending = code(client.request({ method: 'GET', url: `${server.url}/slow`, headers: {}, timeoutMs: 5_000, signal: controller.signal }));
    setTimeout(() => controller.abort(), 20);
    expect(await pending).toBe('aborted');
  });
});
