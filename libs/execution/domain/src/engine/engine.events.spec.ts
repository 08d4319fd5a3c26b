import type { TransformNode, WorkflowSpec } from '@ussd/workflow-domain';
import { nextExecutionId, node, pinned, SESSION, setup, specOf } from './engine.test-helpers.js';
import { NodeHandlerRegistry } from './node-handler-registry.js';
import type { NodeHandler } from './node-handler.js';

const big = pinned(
  specOf([
    node({ id: 'fill', type: 'transform', assign: { blob: "$join([1..300].('0123456789'), '')" }, next: 'out' }),
    node({ id: 'out', type: 'end', output: '$length(vars.blob)' }),
  ]),
);

describe('events', () => {
  it('emits started, one node.finished per attempt, paused/resumed and one finished, with full envelopes', async () => {
    const { engine, sink, clock } = setup();
    const workflow = pinned(
      specOf([
        node({ id: 'menu', type: 'ussd.menu', text: 'Go?', options: [{ key: '1', label: 'Yes', next: 'end' }] }),
        node({ id: 'end', type: 'end', output: "'ok'" }),
      ]),
    );
    const executionId = nextExecutionId();
    const first = await engine.start({ executionId, workflow, trigger: { type: 'ussd', payload: { text: '' } }, session: SESSION });
    if (first.status !== 'paused') throw new Error('expected a pause');
    await clock.advance(2_500);
    await engine.resume(workflow, first.continuation, { kind: 'input', text: '1' });
    expect(sink.trail()).toEqual(['execution.started', 'execution.paused', 'execution.resumed', 'node:menu:completed:0', 'node:end:completed:0', 'execution.finished']);
    expect(sink.events[0]).toMatchObject({ executionId, workflowId: workflow.workflowId, workflowVersion: 1, payload: { sessionId: SESSION.sessionId, triggerPayload: { text: '' } } });
    expect(sink.events[1]).toMatchObject({ payload: { nodeId: 'menu', waitingFor: 'input' } });
    expect(sink.nodeEvents('menu')[0]).toMatchObject({ nodeType: 'ussd.menu', durationMs: 2_500, output: { key: '1' }, error: null });
    expect(sink.finished()).toMatchObject([{ status: 'completed', output: 'ok', error: null, durationMs: 2_500 }]);
    expect(new Set(sink.events.map((event) => event.eventId)).size).toBe(sink.events.length);
  });

  it('caps outputs in events, recording the cap, while the workflow keeps the whole value', async () => {
    const { engine, sink } = setup({ outputCapBytes: 1_024 });
    const result = await engine.start({ executionId: nextExecutionId(), workflow: big, trigger: { type: 'http', payload: { note: 'y'.repeat(5_000) } } });
    expect(result).toMatchObject({ status: 'completed', output: 3_000 });
    const fill = sink.nodeEvents('fill')[0];
    expect(fill?.outputTruncated).toEqual({ originalBytes: 3_011, capBytes: 1_024 });
    expect(fill?.output).toMatchObject({ $truncated: true, originalBytes: 3_011, capBytes: 1_024, preview: expect.stringMatching(/^\{"blob":"0123/) });
    expect(Buffer.byteLength(JSON.stringify(fill?.output))).toBeLessThanOrEqual(1_024);
    expect(sink.events[0]).toMatchObject({ payload: { triggerPayload: { $truncated: true } } });
    expect(sink.nodeEvents('out')[0]?.outputTruncated).toBeUndefined();
  });
});

describe('sink failures: the execution fails fast with events.unavailable', () => {
  it.each(['throw', 'reject'] as const)('when execution.started cannot be written (%s), no node runs', async (mode) => {
    let ran = false;
    const spy: NodeHandler<TransformNode> = { run: async () => ((ran = true), { type: 'continue', next: 'out', output: null }) };
    const { engine, sink } = setup({ handlers: NodeHandlerRegistry.withBuiltins().replace('transform', spy) });
    sink.mode = mode;
    sink.failOn = (event) => event.type === 'execution.started';
    expect(await engine.start({ executionId: nextExecutionId(), workflow: big, trigger: { type: 'http', payload: {} } })).toMatchObject({
      status: 'failed',
      error: { code: 'events.unavailable', message: expect.stringContaining('stream down') },
    });
    expect(ran).toBe(false);
    // The finish was still offered once, in case the sink recovered.
    expect(sink.trail()).toEqual(['execution.finished']);
  });

  it('when a node event cannot be written, the execution stops there', async () => {
    const { engine, sink } = setup();
    sink.failOn = (event) => event.type === 'node.finished';
    expect(await engine.start({ executionId: nextExecutionId(), workflow: big, trigger: { type: 'http', payload: {} } })).toMatchObject({ status: 'failed', error: { code: 'events.unavailable' } });
    expect(sink.trail()).toEqual(['execution.started', 'execution.finished']);
    expect(sink.finished()).toMatchObject([{ status: 'failed', error: { code: 'events.unavailable' } }]);
  });

  it('when the finish itself cannot be written, the caller learns it', async () => {
    const { engine, sink } = setup();
    sink.failOn = (event) => event.type === 'execution.finished';
    expect(await engine.start({ executionId: nextExecutionId(), workflow: big, trigger: { type: 'http', payload: {} } })).toMatchObject({
      status: 'failed',
      error: { code: 'events.unavailable', message: expect.stringContaining('ended as completed') },
    });
  });

  it('when the pause cannot be written, the execution fails rather than wait unrecorded', async () => {
    const { engine, sink } = setup();
    sink.failOn = (event) => event.type === 'execution.paused';
    const workflow = pinned(specOf([node({ id: 'ask', type: 'ussd.input', prompt: 'Name?', variable: 'n', next: 'e' }), node({ id: 'e', type: 'end' })]));
    expect(await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION })).toMatchObject({ status: 'failed', error: { code: 'events.unavailable' } });
    expect(sink.trail()).toEqual(['execution.started', 'execution.finished']);
  });
});

describe('never throws', () => {
  const run = async (workflow: Parameters<ReturnType<typeof setup>['engine']['start']>[0]['workflow'], payload: unknown = {}, handlers?: NodeHandlerRegistry) => {
    const { engine, sink } = setup(handlers === undefined ? {} : { handlers });
    const result = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'http', payload } });
    return { result, sink };
  };

  it.each([
    ['null', null],
    ['no nodes', { specVersion: 1, settings: { executionTimeoutMs: 1000, maxSteps: 1 }, triggers: [{ type: 'http', entry: 'a' }] }],
    ['an edge to nowhere', { specVersion: 1, settings: { executionTimeoutMs: 1000, maxSteps: 5 }, triggers: [{ type: 'http', entry: 'a' }], nodes: [{ id: 'a', type: 'transform', assign: {}, next: 'b' }] }],
    ['an unknown node type', { specVersion: 1, settings: { executionTimeoutMs: 1000, maxSteps: 5 }, triggers: [{ type: 'http', entry: 'a' }], nodes: [{ id: 'a', type: 'sms.send' }] }],
    ['no http trigger', { specVersion: 1, settings: { executionTimeoutMs: 1000, maxSteps: 5 }, triggers: [], nodes: [{ id: 'a', type: 'end' }] }],
  ])('fails a spec that cannot run (%s) with execution.invalid_spec', async (_name, spec) => {
    const { result, sink } = await run(pinned(spec as unknown as WorkflowSpec));
    expect(result).toMatchObject({ status: 'failed', error: { code: 'execution.invalid_spec' } });
    expect(sink.finished()).toHaveLength(1);
  });

  it('fails a payload JSON cannot carry with execution.invalid_trigger', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    for (const payload of [cyclic, { n: 10n }]) expect((await run(big, payload)).result).toMatchObject({ status: 'failed', error: { code: 'execution.invalid_trigger' } });
  });

  it('turns a handler that throws or returns garbage into node.internal on the node', async () => {
    const cases: NodeHandler<TransformNode>[] = [
      { run: () => Promise.reject(new TypeError('boom')) },
      { run: async () => ({ type: 'teleport' }) as never },
      { run: async () => ({ type: 'continue', next: 'out', output: { n: 1n } }) as never },
      {
        run: () => {
          throw 'a string';
        },
      },
    ];
    for (const handler of cases) {
      const { result } = await run(big, {}, NodeHandlerRegistry.withBuiltins().replace('transform', handler));
      expect(result).toMatchObject({ status: 'failed', error: { code: 'node.internal', nodeId: 'fill' } });
    }
  });
});
