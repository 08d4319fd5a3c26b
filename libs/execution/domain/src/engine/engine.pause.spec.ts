import type { HttpRequestNode } from '@ussd/workflow-domain';
import type { Continuation } from './continuation.js';
import { WorkflowEngine } from './engine.js';
import type { EngineResult } from './engine.types.js';
import { MemorySink, nextExecutionId, node, pinned, SESSION, setup, specOf, WORKFLOW_ID } from './engine.test-helpers.js';
import type { NodeHandler } from './node-handler.js';
import { NodeHandlerRegistry } from './node-handler-registry.js';
import { NodeError } from './node-error.js';

const conversation = pinned(
  specOf(
    [
      node({ id: 'menu', type: 'ussd.menu', text: 'Welcome', options: [{ key: '2', label: 'Buy', next: 'amount' }], variable: 'choice' }),
      node({ id: 'amount', type: 'ussd.input', prompt: 'Amount?', variable: 'amount', validation: { pattern: '[0-9]+' }, next: 'prepare' }),
      node({ id: 'prepare', type: 'transform', assign: { total: '$number(vars.amount) * 2' }, next: 'done' }),
      node({ id: 'done', type: 'ussd.end', text: '{{ vars.currency }} {{ vars.total }} for {{ session.msisdn }} ({{ session.input }})' }),
    ],
    {},
    { currency: 'KES' },
  ),
);

function paused(result: EngineResult) {
  if (result.status !== 'paused') throw new Error(`expected paused, got ${JSON.stringify(result)}`);
  return result;
}

describe('pause and resume', () => {
  it('continues exactly where it stopped after a JSON round trip, in a new engine instance', async () => {
    const first = setup();
    const executionId = nextExecutionId();
    const menu = paused(await first.engine.start({ executionId, workflow: conversation, trigger: { type: 'ussd', payload: { text: '' } }, session: SESSION }));
    const stored = JSON.stringify(menu.continuation);

    // A "restarted process": a fresh engine, sink and clock reading the same wall time.
    const second = setup();
    const amount = paused(await second.engine.resume(conversation, JSON.parse(stored) as Continuation, { kind: 'input', text: '2' }));
    expect(amount.prompt).toEqual({ kind: 'input', text: 'Amount?' });
    expect(amount.continuation).toMatchObject({ v: 1, executionId, vars: { currency: 'KES', choice: '2' }, nodes: { menu: { key: '2' } }, steps: 2, node: { id: 'amount' } });

    const done = await second.engine.resume(conversation, JSON.parse(JSON.stringify(amount.continuation)) as Continuation, { kind: 'input', text: '150' });
    expect(done).toEqual({ status: 'completed', output: { text: 'KES 300 for +254700000001 (150)' }, message: 'KES 300 for +254700000001 (150)' });
    expect(first.sink.trail()).toEqual(['execution.started', 'execution.paused']);
    expect(second.sink.trail()).toEqual([
      'execution.resumed',
      'node:menu:completed:0',
      'execution.paused',
      'execution.resumed',
      'node:amount:completed:0',
      'node:prepare:completed:0',
      'node:done:completed:0',
      'execution.finished',
    ]);
    expect(new Set(second.sink.events.map((event) => event.executionId))).toEqual(new Set([executionId]));
  });

  it('takes a new session from the resume input', async () => {
    const { engine } = setup();
    const menu = paused(await engine.start({ executionId: nextExecutionId(), workflow: conversation, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
    const amount = paused(await engine.resume(conversation, menu.continuation, { kind: 'input', text: '2' }));
    const done = await engine.resume(conversation, amount.continuation, { kind: 'input', text: '7', session: { ...SESSION, msisdn: '+254799999999', input: '7' } });
    expect(done).toMatchObject({ status: 'completed', message: 'KES 14 for +254799999999 (7)' });
  });

  describe('refuses, without events, a continuation it cannot honour', () => {
    const cases: [string, (c: Continuation) => unknown, Partial<{ workflowId: string; version: number }>?][] = [
      ['another version', (c) => c, { version: 2 }],
      ['another workflow', (c) => c, { workflowId: '00000000-0000-4000-8000-000000000000' }],
      ['a newer format', (c) => ({ ...c, v: 2 })],
      ['a string', () => 'continuation'],
      ['missing vars', (c) => ({ ...c, vars: undefined })],
      ['a bad timestamp', (c) => ({ ...c, deadlineAt: 'soon' })],
      ['a node the version lacks', (c) => ({ ...c, node: { ...c.node, id: 'nope' } })],
      ['a node of another type', (c) => ({ ...c, node: { ...c.node, type: 'delay' } })],
    ];
    it.each(cases)('%s', async (_name, tamper, workflowChange = {}) => {
      const { engine, sink } = setup();
      const menu = paused(await engine.start({ executionId: nextExecutionId(), workflow: conversation, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
      const before = sink.events.length;
      const result = await engine.resume({ ...conversation, ...workflowChange }, tamper(menu.continuation) as Continuation, { kind: 'input', text: '2' });
      expect(result).toMatchObject({ status: 'failed', error: { code: 'continuation.invalid' } });
      expect(sink.events).toHaveLength(before);
    });

    it('a malformed resume input', async () => {
      const { engine } = setup();
      const menu = paused(await engine.start({ executionId: nextExecutionId(), workflow: conversation, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
      expect(await engine.resume(conversation, menu.continuation, { kind: 'reply' } as never)).toMatchObject({ status: 'failed', error: { code: 'continuation.invalid' } });
    });
  });
});

describe('cancel', () => {
  const slowCall = pinned(specOf([node({ id: 'call', type: 'http.request', method: 'GET', url: 'https://x.example.com/', next: 'out' }), node({ id: 'out', type: 'end' })]));
  const hanging: NodeHandler<HttpRequestNode> = { run: (_node, context) => context.clock.sleep(60_000, context.signal).then(() => ({ type: 'continue', next: 'out', output: null })) };

  it('cancels a running attempt when the signal aborts', async () => {
    const sink = new MemorySink();
    const engine = new WorkflowEngine({ sink, handlers: NodeHandlerRegistry.withBuiltins().replace('http.request', hanging) });
    const controller = new AbortController();
    const pending = engine.start({ executionId: nextExecutionId(), workflow: slowCall, trigger: { type: 'http', payload: {} }, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('operator stop')), 10);
    expect(await pending).toMatchObject({ status: 'canceled', error: { code: 'execution.canceled', nodeId: 'call', message: expect.stringContaining('operator stop') } });
    expect(sink.trail()).toEqual(['execution.started', 'node:call:canceled:0', 'execution.finished']);
    expect(sink.finished()).toMatchObject([{ status: 'canceled' }]);
  });

  it("ends as timeout, not canceled, when the caller's signal aborts with a TimeoutError (a hop deadline)", async () => {
    const sink = new MemorySink();
    const engine = new WorkflowEngine({ sink, handlers: NodeHandlerRegistry.withBuiltins().replace('http.request', hanging) });
    const controller = new AbortController();
    const pending = engine.start({ executionId: nextExecutionId(), workflow: slowCall, trigger: { type: 'http', payload: {} }, signal: controller.signal });
    setTimeout(() => controller.abort(new DOMException('the hop deadline (5000 ms) passed', 'TimeoutError')), 10);
    expect(await pending).toMatchObject({ status: 'timeout', error: { code: 'execution.timeout', nodeId: 'call', message: expect.stringContaining('hop deadline') } });
    expect(sink.trail()).toEqual(['execution.started', 'node:call:timeout:0', 'execution.finished']);
    expect(sink.finished()).toMatchObject([{ status: 'timeout' }]);
  });

  it('cancels before the first node when the signal is already aborted', async () => {
    const { engine, sink } = setup();
    const result = await engine.start({ executionId: nextExecutionId(), workflow: slowCall, trigger: { type: 'http', payload: {} }, signal: AbortSignal.abort() });
    expect(result).toMatchObject({ status: 'canceled' });
    expect(sink.trail()).toEqual(['execution.started', 'execution.finished']);
  });

  it('cancels during a retry wait', async () => {
    let calls = 0;
    const failing: NodeHandler<HttpRequestNode> = {
      run: async () => {
        calls += 1;
        throw new NodeError('http.network', 'down');
      },
    };
    const sink = new MemorySink();
    const engine = new WorkflowEngine({ sink, handlers: NodeHandlerRegistry.withBuiltins().replace('http.request', failing) });
    const controller = new AbortController();
    const workflow = pinned(specOf([node({ id: 'call', type: 'http.request', method: 'GET', url: 'https://x.example.com/', retry: [{ errors: ['*'], maxAttempts: 5, intervalMs: 60_000 }], next: 'out' }), node({ id: 'out', type: 'end' })]));
    const pending = engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'http', payload: {} }, signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    expect(await pending).toMatchObject({ status: 'canceled' });
    expect(calls).toBe(1);
  });

  it('ends a paused execution with cancel(): its waiting attempt and the execution', async () => {
    const { engine, sink } = setup();
    const menu = paused(await engine.start({ executionId: nextExecutionId(), workflow: conversation, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
    expect(await engine.cancel(menu.continuation, 'session ended')).toEqual({ status: 'canceled', error: { code: 'execution.canceled', message: 'session ended', nodeId: 'menu' } });
    expect(sink.trail()).toEqual(['execution.started', 'execution.paused', 'node:menu:canceled:0', 'execution.finished']);
    expect(sink.events.every((event) => event.workflowId === WORKFLOW_ID)).toBe(true);
  });

  it('ends a paused execution as timeout when its session expired', async () => {
    const { engine, sink } = setup();
    const menu = paused(await engine.start({ executionId: nextExecutionId(), workflow: conversation, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
    expect(await engine.cancel(menu.continuation, 'the session expired', { status: 'timeout', code: 'session.expired' })).toEqual({
      status: 'timeout',
      error: { code: 'session.expired', message: 'the session expired', nodeId: 'menu' },
    });
    expect(sink.trail()).toEqual(['execution.started', 'execution.paused', 'node:menu:timeout:0', 'execution.finished']);
    expect(sink.finished()).toMatchObject([{ status: 'timeout', error: { code: 'session.expired' } }]);
  });
});
