import { randomUUID } from 'node:crypto';
import { ExecutionEventFactory } from '@ussd/execution-data-access';
import { EXECUTION_EVENT_SINK } from './execution-logs.module.js';
import { startExecutionApp, type TestApp } from './test-app.test-helpers.js';
import type { ExecutionEventSink } from '@ussd/execution-domain';

describe('execution queries over HTTP against real PostgreSQL', () => {
  let app: TestApp;
  let base: string;
  const workflowId = randomUUID();
  const factories = Array.from({ length: 5 }, (_, i) => new ExecutionEventFactory(workflowId, 1, randomUUID(), Date.parse('2026-05-01T00:00:00Z') + i * 60_000));

  beforeAll(async () => {
    app = await startExecutionApp();
    base = app.url;
    // Through the app's own in-process sink, as the engine will emit them.
    const sink = app.running.app.get<ExecutionEventSink>(EXECUTION_EVENT_SINK);
    for (const [i, f] of factories.entries()) {
      for (const event of [f.started({ i }), f.node('a'), f.node('b', { status: 'failed', attempt: 0 }), f.node('b', { attempt: 1 }), f.finished(i === 2 ? 'failed' : 'completed')]) {
        await sink.emit(event);
      }
    }
    const deadline = Date.now() + 3000;
    while (Date.now() < deadline && (await fetch(`${base}/executions/${factories[4]!.executionId}`, { headers: app.auth })).status !== 200) await new Promise((r) => setTimeout(r, 20));
  });
  afterAll(async () => app?.close());

  const get = async (path: string) => {
    const response = await fetch(`${base}${path}`, { headers: app.auth });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('returns one execution with its node attempts ordered by executed_at', async () => {
    const { status, body } = await get(`/executions/${factories[0]!.executionId}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ executionId: factories[0]!.executionId, workflowId, status: 'completed', triggerPayload: { i: 0 } });
    expect((body['nodes'] as { nodeId: string; attempt: number }[]).map((n) => `${n.nodeId}#${n.attempt}`)).toEqual(['a#0', 'b#0', 'b#1']);
  });

  it('lists executions newest first with filters, and pages with the cursor', async () => {
    const all = await get(`/executions?workflowId=${workflowId}`);
    expect((all.body['items'] as { executionId: string }[]).map((e) => e.executionId)).toEqual([...factories].reverse().map((f) => f.executionId));
    const failed = await get(`/workflows/${workflowId}/executions?status=failed`);
    expect((failed.body['items'] as { executionId: string }[]).map((e) => e.executionId)).toEqual([factories[2]!.executionId]);
    const windowed = await get(`/executions?workflowId=${workflowId}&from=2026-05-01T00:01:00Z&to=2026-05-01T00:03:30Z`);
    expect(windowed.body['items']).toHaveLength(3);
    const seen: string[] = [];
    let next: string | null = `/workflows/${workflowId}/executions?limit=2`;
    while (next) {
      const page = await get(next);
      seen.push(...(page.body['items'] as { executionId: string }[]).map((e) => e.executionId));
      next = (page.body['page'] as { next: string | null }).next;
    }
    expect(seen).toEqual([...factories].reverse().map((f) => f.executionId));
  });

  it('answers 404 for an unknown execution and 400 for malformed ids and queries', async () => {
    expect((await get(`/executions/${randomUUID()}`)).status).toBe(404);
    expect((await get(`/executions/${factories[0]!.executionId.toUpperCase()}`)).status).toBe(200);
    const long = await get(`/executions/${'x'.repeat(400)}`);
    expect([long.status, long.body['status']]).toEqual([414, 414]); // Fastify's path-parameter limit, as problem+json
    for (const path of ['/executions?status=done', '/executions?from=yesterday', '/executions?limit=0', '/executions?workflowId=1', '/executions?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z', '/executions?cursor=%21']) {
      const response = await get(path);
      expect([path, response.status]).toEqual([path, 400]);
      expect((response.body['errors'] as { in: string }[])[0]?.in).toBe('query');
    }
  });

  it('answers 400 naming the path parameter for every malformed id, as /workflows/123 does', async () => {
    const ids = ['123', 'no-such-execution', '%27%20OR%201%3D1', `${'x'.repeat(256)}`, 'a%00b', `${randomUUID()}x`, '..%2F..%2Fetc'];
    for (const id of ids) {
      for (const [method, path] of [['GET', `/executions/${id}`], ['POST', `/executions/${id}/retry`], ['POST', `/executions/${id}/cancel`]] as const) {
        const response = await fetch(`${base}${path}`, { method, headers: app.auth });
        const body = (await response.json()) as { type: string; errors: unknown[] };
        expect([method, path, response.status, response.headers.get('content-type')]).toEqual([method, path, 400, 'application/problem+json; charset=utf-8']);
        expect(body.type).toBe('urn:problem:validation');
        expect(body.errors).toEqual([{ in: 'path', pointer: '/executionId', code: 'invalid-format', message: 'must be a UUID' }]);
      }
    }
    for (const path of ['/workflows/123/executions', '/workflows/not-a-uuid/executions']) {
      const response = await get(path);
      expect([path, response.status]).toEqual([path, 400]);
      expect(response.body['errors']).toEqual([{ in: 'path', pointer: '/workflowId', code: 'invalid-format', message: 'must be a UUID' }]);
    }
  });
});
