import { createHttpClient, type ClosableHttpClient } from '../http-client.js';
import { closedPort, startServer, type TestServer } from '../http.test-helpers.js';
import { nextExecutionId, node, pinned, specOf } from '../engine.test-helpers.js';
import { MemorySink } from '../engine.test-helpers.js';
import { WorkflowEngine } from '../engine.js';

describe('http.request (real local server, system clock)', () => {
  let server: TestServer;
  let http: ClosableHttpClient;
  let attempts = 0;

  beforeAll(async () => {
    server = await startServer({
      '/balance': (req, res) => res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify({ balance: 1250.5, auth: req.headers['authorization'] })),
      '/airtime': (req, res, body) => res.writeHead(201, { 'content-type': 'application/problem+json' }).end(JSON.stringify({ got: JSON.parse(body), type: req.headers['content-type'] })),
      '/text': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('OK'),
      '/lying-json': (_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('not json'),
      '/unavailable': (_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"busy"}'),
      '/flaky': (_req, res) => {
        attempts += 1;
        res.writeHead(attempts < 3 ? 503 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ attempts }));
      },
      '/slow': (_req, res) => setTimeout(() => res.writeHead(200).end('late'), 3_000).unref(),
      '/big': (_req, res) => res.writeHead(200).end('x'.repeat(20_000)),
    });
    // The test server listens on 127.0.0.1, which the client refuses unless its allowlist names it.
    http = createHttpClient({ connectTimeoutMs: 1_000, maxResponseBytes: 10_000, allowedHosts: ['127.0.0.1'] });
  });

  afterAll(async () => {
    http.close();
    await server.close();
  });

  const run = async (fields: Record<string, unknown>, payload: unknown = {}) => {
    const sink = new MemorySink();
    const engine = new WorkflowEngine({ sink, http });
    const workflow = pinned(specOf([node({ id: 'call', type: 'http.request', method: 'GET', url: `${server.url}/balance`, next: 'out', ...fields }), node({ id: 'out', type: 'end', output: 'nodes.call' })]));
    const result = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'http', payload } });
    return { result, sink };
  };

  it('renders URL and headers, parses a JSON body and continues on 2xx', async () => {
    const { result } = await run({ url: `${server.url}/balance?m={{ $encodeUrlComponent(trigger.msisdn) }}`, headers: { Authorization: 'Bearer {{ trigger.token }}' } }, { msisdn: '+2547', token: 't0k' });
    expect(result).toMatchObject({ status: 'completed', output: { status: 200, headers: { 'content-type': 'application/json; charset=utf-8' }, body: { balance: 1250.5, auth: 'Bearer t0k' } } });
    expect(server.requests.at(-1)?.url).toBe('/balance?m=%2B2547');
  });

  it('sends the body expression as JSON with a default content type; +json responses are parsed', async () => {
    const { result } = await run({ method: 'POST', url: `${server.url}/airtime`, body: "{ 'amount': trigger.amount * 100 }" }, { amount: 5 });
    expect(result).toMatchObject({ status: 'completed', output: { status: 201, body: { got: { amount: 500 }, type: 'application/json' } } });
  });

  it('keeps text bodies (and JSON-labelled text) as text', async () => {
    expect((await run({ url: `${server.url}/text` })).result).toMatchObject({ output: { body: 'OK' } });
    expect((await run({ url: `${server.url}/lying-json` })).result).toMatchObject({ output: { body: 'not json' } });
  });

  it('fails a non-2xx status with http.status.<n>, the response in the error details', async () => {
    const { result, sink } = await run({ url: `${server.url}/unavailable` });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'http.status.503', nodeId: 'call', details: { status: 503, body: '{"error":"busy"}' } } });
    expect(sink.nodeEvents('call')).toMatchObject([{ status: 'failed', attempt: 0, error: { code: 'http.status.503' } }]);
  });

  it('retries http.status.5* per the policy, recording each attempt', async () => {
    attempts = 0;
    const { result, sink } = await run({ url: `${server.url}/flaky`, retry: [{ errors: ['http.status.5*'], maxAttempts: 3, intervalMs: 10 }] });
    expect(result).toMatchObject({ status: 'completed', output: { body: { attempts: 3 } } });
    expect(sink.nodeEvents('call').map((event) => [event.attempt, event.status])).toEqual([
      [0, 'failed'],
      [1, 'failed'],
      [2, 'completed'],
    ]);
  });

  it('times out with node.timeout (status timeout) past timeoutMs', async () => {
    const started = Date.now();
    const { result, sink } = await run({ url: `${server.url}/slow`, timeoutMs: 150 });
    expect(result).toMatchObject({ status: 'timeout', error: { code: 'node.timeout', nodeId: 'call' } });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(sink.nodeEvents('call')).toMatchObject([{ status: 'timeout' }]);
  });

  it('fails a body over the size cap with http.response_too_large', async () => {
    expect((await run({ url: `${server.url}/big` })).result).toMatchObject({ status: 'failed', error: { code: 'http.response_too_large' } });
  });

  it('fails a non-public address with http.forbidden_address (the default client of the engine has no allowlist), catchable, nothing sent', async () => {
    const sink = new MemorySink();
    const engine = new WorkflowEngine({ sink });
    const before = server.connections;
    const workflow = pinned(
      specOf([
        node({ id: 'call', type: 'http.request', method: 'GET', url: '{{ trigger.url }}', next: 'out', catch: [{ errors: ['http.forbidden_address'], next: 'refused', resultVariable: 'why' }] }),
        node({ id: 'out', type: 'end', output: 'nodes.call' }),
        node({ id: 'refused', type: 'end', output: 'vars.why' }),
      ]),
    );
    for (const url of [`${server.url}/balance`, 'http://169.254.169.254/latest/meta-data/', 'http://[::ffff:127.0.0.1]/', 'http://localhost/']) {
      const result = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'http', payload: { url } } });
      expect(result).toMatchObject({ status: 'completed', output: { code: 'http.forbidden_address', message: expect.stringMatching(/^refused to call /) as unknown } });
    }
    expect(sink.nodeEvents('call').map((event) => [event.status, event.error?.code])).toEqual(Array.from({ length: 4 }, () => ['failed', 'http.forbidden_address']));
    expect(server.connections - before).toBe(0);
  });

  it('fails a refused connection with http.network, and a rendered non-http URL with http.invalid_request', async () => {
    expect((await run({ url: `http://127.0.0.1:${await closedPort()}/x` })).result).toMatchObject({ status: 'failed', error: { code: 'http.network' } });
    expect((await run({ url: '{{ trigger.url }}' }, { url: 'ftp://example.com/' })).result).toMatchObject({ status: 'failed', error: { code: 'http.invalid_request' } });
  });
});
