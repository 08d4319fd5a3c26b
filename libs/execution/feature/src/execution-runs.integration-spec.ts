import { createServer, type Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { grantServiceCodes, ussdServiceCodes } from '@ussd/platform-testing';
import { startExecutionApp, type TestApp } from './test-app.test-helpers.js';

/** A 5-node HTTP workflow: transform -> http.request -> switch -> transform -> end. */
function fiveNodeSpec(serviceUrl: string, retry = false) {
  return {
    specVersion: 1,
    settings: { executionTimeoutMs: 20_000, maxSteps: 50 },
    triggers: [{ type: 'http', entry: 'prepare' }],
    nodes: [
      { id: 'prepare', type: 'transform', assign: { amount: 'trigger.amount * 2' }, next: 'call' },
      {
        id: 'call',
        type: 'http.request',
        method: 'POST',
        url: `${serviceUrl}/quote`,
        headers: { 'Content-Type': 'application/json' },
        body: "{ 'amount': vars.amount }",
        timeoutMs: 3000,
        ...(retry ? { retry: [{ errors: ['http.status.5*'], maxAttempts: 3, intervalMs: 10 }] } : {}),
        next: 'route',
      },
      { id: 'route', type: 'switch', cases: [{ when: 'nodes.call.body.total > 100', next: 'big' }], default: 'small' },
      { id: 'big', type: 'transform', assign: { size: "'big'" }, next: 'done' },
      { id: 'small', type: 'transform', assign: { size: "'small'" }, next: 'done' },
      { id: 'done', type: 'end', output: "{ 'total': nodes.call.body.total, 'size': vars.size }" },
    ],
  };
}

const pausingSpec = {
  specVersion: 1,
  settings: { executionTimeoutMs: 60_000, maxSteps: 10 },
  triggers: [{ type: 'http', entry: 'menu' }],
  nodes: [
    { id: 'menu', type: 'ussd.menu', text: 'Choose', options: [{ key: '1', label: 'Done', next: 'bye' }] },
    { id: 'bye', type: 'ussd.end', text: 'Bye' },
  ],
};

describe('running executions over HTTP against real PostgreSQL', () => {
  let app: TestApp;
  let base: string;
  let service: Server;
  let serviceUrl: string;
  let failuresLeft = 0;
  let delayMs = 0;

  beforeAll(async () => {
    service = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        setTimeout(() => {
          if (failuresLeft > 0) {
            failuresLeft -= 1;
            res.writeHead(503).end('busy');
            return;
          }
          const amount = (JSON.parse(body || '{}') as { amount?: number }).amount ?? 0;
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ total: amount + 1 }));
        }, delayMs).unref(); // a canceled slow request must not keep the worker alive
      });
    });
    await new Promise<void>((resolve) => service.listen(0, '127.0.0.1', resolve));
    const address = service.address();
    serviceUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    // The service listens on 127.0.0.1, which http.request refuses unless the allowlist names it.
    app = await startExecutionApp({ EXECUTION_SYNC_TIMEOUT_MS: '1500', HTTP_ALLOWED_HOSTS: '127.0.0.1' });
    base = app.url;
  });
  afterAll(async () => {
    await app?.close();
    service?.closeAllConnections();
    await new Promise((resolve) => service?.close(resolve));
  });

  async function call(method: string, path: string, body?: unknown) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...app.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, location: response.headers.get('location'), body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }

  async function publishedWorkflow(spec: unknown): Promise<string> {
    await grantServiceCodes(app.database.url, 'default', ussdServiceCodes(spec));
    const created = await call('POST', '/workflows', { name: 'runnable', spec });
    const id = created.body['workflowId'] as string;
    const published = await call('POST', `/workflows/${id}/versions/1/publish`);
    expect(published.status).toBe(200);
    return id;
  }

  async function logged(executionId: string, until: (body: Record<string, unknown>) => boolean = () => true) {
    const deadline = Date.now() + 5000;
    for (;;) {
      const response = await call('GET', `/executions/${executionId}`);
      if (response.status === 200 && until(response.body)) return response.body;
      if (Date.now() > deadline) throw new Error(`execution ${executionId} not logged as expected: ${JSON.stringify(response.body)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('runs a 5-node workflow synchronously, answers its output, and logs every node within a second', async () => {
    const workflowId = await publishedWorkflow(fiveNodeSpec(serviceUrl));
    const started = Date.now();
    const run = await call('POST', `/workflows/${workflowId}/executions`, { payload: { amount: 60 } });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({ workflowId, workflowVersion: 1, status: 'completed', output: { total: 121, size: 'big' } });
    expect(run.location).toBe(`/executions/${run.body['executionId']}`);
    const log = await logged(run.body['executionId'] as string, (b) => b['status'] === 'completed' && (b['nodes'] as unknown[]).length === 5);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(log).toMatchObject({ triggerPayload: { amount: 60 }, output: { total: 121, size: 'big' } });
    expect((log['nodes'] as { nodeId: string }[]).map((n) => n.nodeId)).toEqual(['prepare', 'call', 'route', 'big', 'done']);
  });

  it('runs asynchronously: 202 with a Location, then the outcome in the log', async () => {
    const workflowId = await publishedWorkflow(fiveNodeSpec(serviceUrl));
    const run = await call('POST', `/workflows/${workflowId}/executions`, { payload: { amount: 1 }, mode: 'async' });
    expect(run.status).toBe(202);
    expect(run.body['status']).toBe('queued');
    const log = await logged(run.body['executionId'] as string, (b) => b['status'] === 'completed');
    expect(log['output']).toEqual({ total: 3, size: 'small' });
  });

  it('records every attempt of a retried node, and a failed execution with its error', async () => {
    const workflowId = await publishedWorkflow(fiveNodeSpec(serviceUrl, true));
    failuresLeft = 2;
    const recovered = await call('POST', `/workflows/${workflowId}/executions`, { payload: { amount: 5 } });
    expect(recovered.body['status']).toBe('completed');
    const log = await logged(recovered.body['executionId'] as string, (b) => (b['nodes'] as unknown[]).length === 7);
    expect((log['nodes'] as { nodeId: string; attempt: number; status: string }[]).filter((n) => n.nodeId === 'call').map((n) => [n.attempt, n.status])).toEqual([
      [0, 'failed'],
      [1, 'failed'],
      [2, 'completed'],
    ]);

    failuresLeft = 10;
    const failed = await call('POST', `/workflows/${workflowId}/executions`, { payload: { amount: 5 } });
    failuresLeft = 0;
    expect(failed.body).toMatchObject({ status: 'failed', error: { code: 'http.status.503', nodeId: 'call' } });
    expect(await logged(failed.body['executionId'] as string, (b) => b['status'] === 'failed')).toMatchObject({ error: { code: 'http.status.503' } });
  });

  it('retries an execution as a new one with the same payload and version, linked to the original', async () => {
    const workflowId = await publishedWorkflow(fiveNodeSpec(serviceUrl));
    const first = await call('POST', `/workflows/${workflowId}/executions`, { payload: { amount: 7 } });
    await logged(first.body['executionId'] as string, (b) => b['status'] === 'completed');
    const retry = await call('POST', `/executions/${first.body['executionId']}/retry`);
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ retryOf: first.body['executionId'], workflowVersion: 1 });
    const log = await logged(retry.body['executionId'] as string, (b) => b['status'] === 'completed');
    expect(log).toMatchObject({ triggerPayload: { amount: 7 }, output: { total: 15, size: 'small' }, retryOf: first.body['executionId'] });
    expect((await logged(first.body['executionId'] as string))['retries']).toEqual([retry.body['executionId']]);
    expect((await call('POST', `/executions/${randomUUID()}/retry`)).status).toBe(404);
  });

  it('answers 202 when a sync execution outlives EXECUTION_SYNC_TIMEOUT_MS, and cancels a running one', async () => {
    const workflowId = await publishedWorkflow(fiveNodeSpec(serviceUrl));
    delayMs = 2500;
    try {
      const slow = await call('POST', `/workflows/${workflowId}/executions`, { payload: { amount: 1 } });
      expect(slow.status).toBe(202);
      expect(slow.body['status']).toBe('running');
      const canceled = await call('POST', `/executions/${slow.body['executionId']}/cancel`);
      expect(canceled.status).toBe(200);
      expect(canceled.body['status']).toBe('canceled');
      expect(await logged(slow.body['executionId'] as string, (b) => b['status'] === 'canceled')).toMatchObject({ status: 'canceled' });
      const again = await call('POST', `/executions/${slow.body['executionId']}/cancel`);
      expect(again.status).toBe(409);
    } finally {
      delayMs = 0;
    }
  });

  it('pauses at a prompt (knowingly), and cancels a paused execution', async () => {
    const workflowId = await publishedWorkflow(pausingSpec);
    const paused = await call('POST', `/workflows/${workflowId}/executions`);
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ status: 'paused', prompt: { kind: 'menu' } });
    expect((paused.body['prompt'] as { text: string }).text).toContain('1. Done');
    const canceled = await call('POST', `/executions/${paused.body['executionId']}/cancel`);
    expect(canceled.body['status']).toBe('canceled');
    expect((await logged(paused.body['executionId'] as string, (b) => b['status'] === 'canceled'))['status']).toBe('canceled');
  });

  it('runs a newly published version at once, and refuses at once after deactivation (no stale cache)', async () => {
    const workflowId = await publishedWorkflow(fiveNodeSpec(serviceUrl));
    expect((await call('POST', `/workflows/${workflowId}/executions`, { payload: { amount: 1 } })).body['workflowVersion']).toBe(1);
    await call('POST', `/workflows/${workflowId}/versions`, { spec: fiveNodeSpec(serviceUrl) });
    await call('POST', `/workflows/${workflowId}/versions/2/publish`);
    expect((await call('POST', `/workflows/${workflowId}/executions`, { payload: { amount: 1 } })).body['workflowVersion']).toBe(2);
    await call('POST', `/workflows/${workflowId}/deactivate`);
    expect((await call('POST', `/workflows/${workflowId}/executions`, { payload: { amount: 1 } })).status).toBe(409);
  });

  it('refuses a workflow without an http trigger with 409 saying how it is run, and stores nothing', async () => {
    const ussdOnly = {
      ...pausingSpec,
      triggers: [{ type: 'ussd', serviceCode: `*${Math.floor(Math.random() * 900_000) + 100_000}#`, environments: ['production', 'staging'], entry: 'menu' }],
    };
    const workflowId = await publishedWorkflow(ussdOnly);
    const serviceCode = ussdOnly.triggers[0]!.serviceCode;
    for (const body of [undefined, {}, { mode: 'async', payload: { a: 1 } }, { version: 1 }, { payload: '<script>' }]) {
      const response = await fetch(`${base}/workflows/${workflowId.toUpperCase()}/executions`, {
        method: 'POST',
        headers: { ...app.auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      expect([JSON.stringify(body), response.status]).toEqual([JSON.stringify(body), 409]);
      expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
      expect(response.headers.get('location')).toBeNull();
      const problem = (await response.json()) as Record<string, unknown>;
      expect(problem).toMatchObject({
        type: 'urn:problem:execution:no-http-trigger',
        status: 409,
        workflowId,
        version: 1,
        triggers: [{ type: 'ussd', serviceCode, environments: ['production', 'staging'] }],
      });
      expect(problem['detail']).toContain(`Workflow ${workflowId} (version 1) has no http trigger`);
      expect(problem['detail']).toContain(`a subscriber dials ${serviceCode} in production, staging`);
      expect(problem['detail']).toContain('POST /ussd/africastalking');
      expect(problem['detail']).toContain('add a trigger { "type": "http", "entry": "<node id>" }');
    }
    // Nothing was started: after the writer's flush interval (10 ms here) and then some, no row.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const client = new pg.Client({ connectionString: app.database.url });
    await client.connect();
    try {
      const rows = await client.query<{ n: string }>('SELECT count(*) AS n FROM execution_logs WHERE workflow_id = $1', [workflowId]);
      expect(rows.rows[0]?.n).toBe('0');
    } finally {
      await client.end();
    }
    expect(((await call('GET', `/workflows/${workflowId}/executions`)).body['items'] as unknown[]).length).toBe(0);
  });

  it('refuses query parameters with 400 naming them: mode is a body field, not a query parameter', async () => {
    const workflowId = await publishedWorkflow(fiveNodeSpec(serviceUrl));
    const response = await call('POST', `/workflows/${workflowId}/executions?mode=async`, { payload: { amount: 1 } });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      type: 'urn:problem:validation',
      errors: [{ in: 'query', pointer: '/mode', code: 'unknown-parameter', message: 'unknown query parameter: mode is a field of the JSON body; send it there' }],
    });
    expect(response.location).toBeNull();
    expect(((await call('GET', `/workflows/${workflowId}/executions`)).body['items'] as unknown[]).length).toBe(0);
  });

  it('refuses what cannot run: unknown (404), draft-only or deactivated (409), bad input (400)', async () => {
    expect((await call('POST', `/workflows/${randomUUID()}/executions`, {})).status).toBe(404);
    const draft = await call('POST', '/workflows', { name: 'draft', spec: fiveNodeSpec(serviceUrl) });
    const draftRun = await call('POST', `/workflows/${draft.body['workflowId']}/executions`, {});
    expect(draftRun.status).toBe(409);
    expect(draftRun.body['type']).toBe('urn:problem:execution:not-runnable');
    const workflowId = await publishedWorkflow(fiveNodeSpec(serviceUrl));
    expect((await call('POST', `/workflows/${workflowId}/executions`, { version: 9 })).status).toBe(409);
    await call('POST', `/workflows/${workflowId}/deactivate`);
    expect((await call('POST', `/workflows/${workflowId}/executions`, {})).status).toBe(409);
    for (const body of [{ mode: 'later' }, { version: 'one' }, { payload: 1, extra: true }]) {
      const response = await call('POST', `/workflows/${workflowId}/executions`, body);
      expect([JSON.stringify(body), response.status]).toEqual([JSON.stringify(body), 400]);
    }
    expect((await call('POST', '/workflows/not-a-uuid/executions', {})).status).toBe(400);
  });
});

describe('back-pressure from the log writer', () => {
  let app: TestApp;
  // A writer that flushes only every 3 s and holds 100 events: it saturates after a few executions.
  beforeAll(async () => {
    app = await startExecutionApp({ EXECUTION_EVENT_FLUSH_MS: '3000', EXECUTION_EVENT_BATCH_SIZE: '1000', EXECUTION_EVENT_BUFFER_MAX: '100' });
  });
  afterAll(async () => app?.close());

  it('refuses new executions with 503 and Retry-After while the log writer is behind, and logs every accepted one', async () => {
    const post = (path: string, body?: unknown) =>
      fetch(`${app.url}${path}`, { method: 'POST', headers: { ...app.auth, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
    const spec = {
      specVersion: 1,
      settings: { executionTimeoutMs: 10_000, maxSteps: 10 },
      triggers: [{ type: 'http', entry: 'a' }],
      nodes: [
        { id: 'a', type: 'transform', assign: { x: '1' }, next: 'b' },
        { id: 'b', type: 'end', output: 'vars.x' },
      ],
    };
    const created = (await (await post('/workflows', { name: 'bp', spec })).json()) as { workflowId: string };
    await post(`/workflows/${created.workflowId}/versions/1/publish`);
    const accepted: string[] = [];
    let refused: Response | undefined;
    for (let i = 0; i < 60 && !refused; i++) {
      const response = await post(`/workflows/${created.workflowId}/executions`, { payload: { i } });
      if (response.status === 503) refused = response;
      else {
        expect(response.status).toBe(200);
        accepted.push(((await response.json()) as { executionId: string }).executionId);
      }
    }
    expect(refused?.status).toBe(503);
    expect(refused?.headers.get('retry-after')).toBe('1');
    expect(((await refused!.json()) as { type: string }).type).toBe('urn:problem:execution:log-backlog');
    expect(accepted.length).toBeGreaterThanOrEqual(10);
    const deadline = Date.now() + 15_000;
    for (const executionId of accepted) {
      for (;;) {
        const response = await fetch(`${app.url}/executions/${executionId}`, { headers: app.auth });
        if (response.status === 200 && ((await response.json()) as { status: string }).status === 'completed') break;
        if (Date.now() > deadline) throw new Error(`execution ${executionId} never logged as completed`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });
});
