import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { DataSource } from 'typeorm';
import { decodeStreamEntry, EventStreamConsumer, ExecutionLogIngestor } from '@ussd/execution-data-access';
import type { ExecutionEvent } from '@ussd/execution-domain';
import { requireRedis, silentLogger, TcpProxy } from '@ussd/platform-testing';
import { startExecutionApp, type TestApp } from './test-app.test-helpers.js';

const spec = {
  specVersion: 1,
  settings: { executionTimeoutMs: 10_000, maxSteps: 10 },
  triggers: [{ type: 'http', entry: 'a' }],
  nodes: [
    { id: 'a', type: 'transform', assign: { x: '1' }, next: 'b' },
    { id: 'b', type: 'end', output: 'vars.x' },
  ],
};

/**
 * The api with REDIS_URL: executions stream their events to Redis (no log row is written by
 * the api), and while Redis is unreachable new executions are refused with a clear 503.
 */
describe('the api streams execution events to Redis', () => {
  let app: TestApp;
  let proxy: TcpProxy;
  let redis: Redis;
  const prefix = `t-producer-${randomUUID().slice(0, 8)}`;
  const stream = `${prefix}:execution-events`;

  beforeAll(async () => {
    const url = await requireRedis();
    redis = new Redis(url);
    proxy = await TcpProxy.forUrl(url).start();
    app = await startExecutionApp({ REDIS_URL: proxy.rewrite(url), REDIS_KEY_PREFIX: prefix, EVENT_INGEST_IN_API: 'false', HEALTH_CHECK_TIMEOUT_MS: '300' });
  });
  afterAll(async () => {
    await proxy?.restore();
    await app?.close();
    await proxy?.stop();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis?.disconnect();
  });

  const post = (path: string, body?: unknown) => fetch(`${app.url}${path}`, { method: 'POST', headers: { ...app.auth, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });

  it('appends every event of an execution to the stream; the rows come from a consumer, not the api', async () => {
    const created = (await (await post('/workflows', { name: 'streamed', spec })).json()) as { workflowId: string };
    await post(`/workflows/${created.workflowId}/versions/1/publish`);
    const run = await post(`/workflows/${created.workflowId}/executions`, { payload: { n: 1 } });
    expect(run.status).toBe(200);
    const { executionId } = (await run.json()) as { executionId: string };

    let events: ExecutionEvent[] = [];
    const deadline = Date.now() + 5000;
    while (events.length < 4 && Date.now() < deadline) {
      const entries = (await redis.xrange(stream, '-', '+')) as [string, string[]][];
      events = entries.map(([id, fields]) => decodeStreamEntry(id, fields)).flatMap((d) => ('event' in d && d.event.executionId === executionId ? [d.event] : []));
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(events.map((e) => e.type)).toEqual(['execution.started', 'node.finished', 'node.finished', 'execution.finished']);
    expect((await fetch(`${app.url}/executions/${executionId}`, { headers: app.auth })).status).toBe(404); // nobody consumed yet

    const connection = redis.duplicate();
    const consumer = new EventStreamConsumer(connection, {
      streamKey: stream,
      group: 'log-ingester',
      consumer: 'test',
      batchSize: 100,
      blockMs: 100,
      claimIdleMs: 1000,
      maxDeliveries: 3,
      maxLength: 1_000_000,
      ingest: (batch) => new ExecutionLogIngestor(app.running.app.get(DataSource)).ingest(batch),
      logger: silentLogger(),
    });
    consumer.start();
    try {
      const until = Date.now() + 5000;
      let status: string | undefined;
      while (status !== 'completed' && Date.now() < until) {
        const response = await fetch(`${app.url}/executions/${executionId}`, { headers: app.auth });
        status = response.status === 200 ? ((await response.json()) as { status: string }).status : undefined;
        await new Promise((r) => setTimeout(r, 30));
      }
      expect(status).toBe('completed');
    } finally {
      await consumer.stop();
      connection.disconnect();
    }
  });

  it('refuses new executions with 503 (problem+json naming Redis, Retry-After) and turns not ready while Redis is unreachable; recovers by itself', async () => {
    const created = (await (await post('/workflows', { name: 'outage', spec })).json()) as { workflowId: string };
    await post(`/workflows/${created.workflowId}/versions/1/publish`);
    await proxy.cut();
    let refused: Response | undefined;
    const deadline = Date.now() + 10_000;
    while (!refused && Date.now() < deadline) {
      const response = await post(`/workflows/${created.workflowId}/executions`, { payload: {} });
      if (response.status === 503) refused = response;
      else await new Promise((r) => setTimeout(r, 50));
    }
    expect(refused?.headers.get('content-type')).toContain('application/problem+json');
    expect(refused?.headers.get('retry-after')).toBe('1');
    const problem = (await refused!.json()) as { type: string; detail: string };
    expect(problem.type).toBe('urn:problem:execution:log-backlog');
    expect(problem.detail).toMatch(/^Redis is unreachable/);
    const ready = await fetch(`${app.url}/health/ready`);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { failing: string[] }).failing).toContain('redis');

    await proxy.restore();
    const back = Date.now() + 15_000;
    let status = 0;
    while (status !== 200 && Date.now() < back) {
      status = (await post(`/workflows/${created.workflowId}/executions`, { payload: {} })).status;
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });
});
