import { createServer, type Server } from 'node:http';
import { startExecutionApp, type TestApp } from './test-app.test-helpers.js';

/**
 * End to end through the API, with the production default (HTTP_ALLOWED_HOSTS unset): a workflow
 * whose http.request targets this machine or the cloud metadata address ends with the node
 * failed (`http.forbidden_address`), and a listener on 127.0.0.1 standing in for the
 * log-ingester's /metrics never sees a connection.
 */
describe('http.request through the API refuses non-public addresses', () => {
  let app: TestApp;
  let listener: Server;
  let port = 0;
  let connections = 0;

  beforeAll(async () => {
    listener = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('process_cpu_seconds_total 42'));
    listener.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const address = listener.address();
    port = typeof address === 'object' && address ? address.port : 0;
    app = await startExecutionApp(); // no HTTP_ALLOWED_HOSTS, as in production
  });

  afterAll(async () => {
    await app?.close();
    listener?.closeAllConnections();
    await new Promise((resolve) => listener?.close(resolve));
  });

  async function call(method: string, path: string, body?: unknown) {
    const response = await fetch(`${app.url}${path}`, {
      method,
      headers: { ...app.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }

  async function logged(executionId: string, until: (body: Record<string, unknown>) => boolean) {
    const deadline = Date.now() + 5000;
    for (;;) {
      const response = await call('GET', `/executions/${executionId}`);
      if (response.status === 200 && until(response.body)) return response.body;
      if (Date.now() > deadline) throw new Error(`execution ${executionId} not logged as expected: ${JSON.stringify(response.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  const spec = (url: string) => ({
    specVersion: 1,
    settings: { executionTimeoutMs: 10_000, maxSteps: 10 },
    triggers: [{ type: 'http', entry: 'call' }],
    nodes: [
      { id: 'call', type: 'http.request', method: 'GET', url, next: 'done' },
      { id: 'done', type: 'end', output: 'nodes.call.body' },
    ],
  });

  it.each([
    'http://127.0.0.1:PORT/metrics',
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://2130706433:PORT/metrics',
    'http://[::ffff:127.0.0.1]:PORT/metrics',
    'http://localhost:PORT/metrics',
  ])('%s: the execution fails at the node with http.forbidden_address, and nothing reaches the listener', async (template) => {
    const url = template.replace('PORT', String(port));
    const created = await call('POST', '/workflows', { name: 'ssrf probe', spec: spec(url) });
    expect(created.status).toBe(201);
    const workflowId = created.body['workflowId'] as string;
    expect((await call('POST', `/workflows/${workflowId}/versions/1/publish`)).status).toBe(200);
    const before = connections;

    const run = await call('POST', `/workflows/${workflowId}/executions`, { mode: 'sync' });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ status: 'failed', error: { code: 'http.forbidden_address', nodeId: 'call' } });
    const message = (run.body['error'] as { message: string }).message;
    expect(message).toMatch(/^refused to call \S+: /);
    expect(message).not.toContain(String(port));

    const log = await logged(run.body['executionId'] as string, (body) => body['status'] === 'failed' && (body['nodes'] as unknown[]).length === 1);
    expect(log['nodes']).toMatchObject([{ nodeId: 'call', status: 'failed', attempt: 0, error: { code: 'http.forbidden_address' } }]);
    expect(JSON.stringify(log)).not.toContain('process_cpu_seconds_total');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(connections - before).toBe(0);
  });
});
