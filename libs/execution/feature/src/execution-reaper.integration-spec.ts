import { randomUUID } from 'node:crypto';
import type { ExecutionEventSink } from '@ussd/execution-domain';
import { ExecutionEventFactory } from '@ussd/execution-data-access';
import { EXECUTION_EVENT_SINK } from './execution-logs.module.js';
import { startExecutionApp, type TestApp } from './test-app.test-helpers.js';

describe('the reaper, seen through the HTTP API', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startExecutionApp({ EXECUTION_REAPER_INTERVAL_MS: '200', EXECUTION_REAPER_GRACE_MS: '0' });
  });
  afterAll(async () => app?.close());

  it('ends an execution whose process died (started, never finished) as timeout once its deadline passes, and leaves finished ones alone', async () => {
    const spec = {
      specVersion: 1,
      settings: { executionTimeoutMs: 1000, maxSteps: 10 },
      triggers: [{ type: 'http', entry: 'a' }],
      nodes: [{ id: 'a', type: 'end', output: '1' }],
    };
    const headers = { ...app.auth, 'content-type': 'application/json' };
    const created = (await (await fetch(`${app.url}/workflows`, { method: 'POST', headers, body: JSON.stringify({ name: 'reaped', spec }) })).json()) as { workflowId: string };
    await fetch(`${app.url}/workflows/${created.workflowId}/versions/1/publish`, { method: 'POST', headers: app.auth });

    // An execution whose runner vanished after its start event (a crashed replica).
    const orphan = new ExecutionEventFactory(created.workflowId, 1, randomUUID(), Date.now());
    const sink = app.running.app.get<ExecutionEventSink>(EXECUTION_EVENT_SINK);
    await sink.emit(orphan.started());
    const finished = (await (await fetch(`${app.url}/workflows/${created.workflowId}/executions`, { method: 'POST', headers, body: '{}' })).json()) as { executionId: string; status: string };
    expect(finished.status).toBe('completed');

    const deadline = Date.now() + 10_000;
    let status = 'running';
    while (status === 'running' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      const response = await fetch(`${app.url}/executions/${orphan.executionId}`, { headers: app.auth });
      if (response.status === 200) status = ((await response.json()) as { status: string }).status;
    }
    const reaped = (await (await fetch(`${app.url}/executions/${orphan.executionId}`, { headers: app.auth })).json()) as { status: string; error: { code: string } };
    expect(reaped).toMatchObject({ status: 'timeout', error: { code: 'execution.timeout' } });
    expect(((await (await fetch(`${app.url}/executions/${finished.executionId}`, { headers: app.auth })).json()) as { status: string }).status).toBe('completed');
  });
});
