import type { WorkflowSpec } from '@ussd/workflow-domain';
import type { PinnedWorkflow, SubworkflowResolver } from '../engine.types.js';
import { CHILD_WORKFLOW_ID, nextExecutionId, node, pinned, SESSION, setup, specOf, WORKFLOW_ID } from '../engine.test-helpers.js';

function resolverOf(...workflows: PinnedWorkflow[]): SubworkflowResolver & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    resolvePublished: async (workflowId, version) => {
      calls.push([workflowId, version]);
      const matching = workflows.filter((workflow) => workflow.workflowId === workflowId && (version === undefined || workflow.version === version));
      return matching.at(-1) ?? null;
    },
  };
}

const parentSpec = (extra: Record<string, unknown> = {}) =>
  specOf([
    node({ id: 'call', type: 'subworkflow', workflowId: CHILD_WORKFLOW_ID, input: "{ 'n': trigger.n }", next: 'out', ...extra }),
    node({ id: 'out', type: 'end', output: "{ 'child': nodes.call, 'caught': vars.caught }" }),
    ...('catch' in extra ? [node({ id: 'handled', type: 'end', output: "{ 'caught': vars.caught }" })] : []),
  ]);

const doubler: WorkflowSpec = specOf([node({ id: 'double', type: 'end', output: "{ 'doubled': trigger.n * 2 }" })]);

describe('subworkflow', () => {
  it('runs the published child with the input as its trigger, as an execution of its own', async () => {
    const resolver = resolverOf(pinned(doubler, CHILD_WORKFLOW_ID, 1), pinned(doubler, CHILD_WORKFLOW_ID, 2));
    const { engine, sink } = setup({ subworkflows: resolver });
    const result = await engine.start({ executionId: 'parent', workflow: pinned(parentSpec()), trigger: { type: 'http', payload: { n: 21 } } });
    expect(result).toMatchObject({ status: 'completed', output: { child: { doubled: 42 } } });
    expect(resolver.calls).toEqual([[CHILD_WORKFLOW_ID, undefined]]);
    const child = sink.events.find((event) => event.workflowId === CHILD_WORKFLOW_ID);
    expect(child).toMatchObject({ type: 'execution.started', workflowVersion: 2 });
    expect(child?.executionId).not.toBe('parent');
    expect(sink.trail(child?.executionId)).toEqual(['execution.started', 'node:double:completed:0', 'execution.finished']);
  });

  it('uses a pinned version', async () => {
    const resolver = resolverOf(pinned(doubler, CHILD_WORKFLOW_ID, 1), pinned(doubler, CHILD_WORKFLOW_ID, 2));
    const { engine } = setup({ subworkflows: resolver });
    await engine.start({ executionId: nextExecutionId(), workflow: pinned(parentSpec({ version: 1 })), trigger: { type: 'http', payload: { n: 1 } } });
    expect(resolver.calls).toEqual([[CHILD_WORKFLOW_ID, 1]]);
  });

  it("fails with the child's fail code, which the parent can catch", async () => {
    const failing = specOf([node({ id: 'no', type: 'fail', error: 'billing.declined' })]);
    const { engine } = setup({ subworkflows: resolverOf(pinned(failing, CHILD_WORKFLOW_ID)) });
    expect(await engine.start({ executionId: nextExecutionId(), workflow: pinned(parentSpec()), trigger: { type: 'http', payload: {} } })).toMatchObject({
      status: 'failed',
      error: { code: 'billing.declined', nodeId: 'call' },
    });
    const caught = parentSpec({ catch: [{ errors: ['billing.*'], next: 'handled', resultVariable: 'caught' }] });
    expect(await engine.start({ executionId: nextExecutionId(), workflow: pinned(caught), trigger: { type: 'http', payload: {} } })).toMatchObject({
      status: 'completed',
      output: { caught: { code: 'billing.declined' } },
    });
  });

  it('fails with subworkflow.not_found for a missing workflow, or without a resolver', async () => {
    for (const options of [{ subworkflows: resolverOf() }, {}]) {
      const { engine } = setup(options);
      expect(await engine.start({ executionId: nextExecutionId(), workflow: pinned(parentSpec()), trigger: { type: 'http', payload: {} } })).toMatchObject({
        status: 'failed',
        error: { code: 'subworkflow.not_found' },
      });
    }
  });

  it('fails with subworkflow.unavailable when the resolver throws (a retryable condition)', async () => {
    const { engine } = setup({ subworkflows: { resolvePublished: () => Promise.reject(new Error('db down')) } });
    expect(await engine.start({ executionId: nextExecutionId(), workflow: pinned(parentSpec()), trigger: { type: 'http', payload: {} } })).toMatchObject({
      status: 'failed',
      error: { code: 'subworkflow.unavailable' },
    });
  });

  it('stops a workflow that calls itself at the depth limit', async () => {
    const recursive = specOf([node({ id: 'again', type: 'subworkflow', workflowId: WORKFLOW_ID, next: 'out' }), node({ id: 'out', type: 'end' })]);
    const { engine, sink } = setup({ subworkflows: resolverOf(pinned(recursive)), maxSubworkflowDepth: 3 });
    const result = await engine.start({ executionId: nextExecutionId(), workflow: pinned(recursive), trigger: { type: 'http', payload: {} } });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'subworkflow.depth_exceeded' } });
    expect(sink.events.filter((event) => event.type === 'execution.started')).toHaveLength(4);
    expect(sink.finished()).toHaveLength(4);
  });

  it("pauses the parent on the child's prompt and resumes both, after a JSON round trip", async () => {
    const asking = specOf([
      node({ id: 'pin', type: 'ussd.input', prompt: 'PIN for {{ session.msisdn }}:', variable: 'pin', next: 'ok' }),
      node({ id: 'ok', type: 'end', output: "{ 'pin': vars.pin }" }),
    ]);
    const resolver = resolverOf(pinned(asking, CHILD_WORKFLOW_ID));
    const { engine, sink } = setup({ subworkflows: resolver });
    const workflow = pinned(parentSpec());
    const first = await engine.start({ executionId: 'parent-2', workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION });
    expect(first).toMatchObject({ status: 'paused', waitingFor: 'input', prompt: { kind: 'input', text: 'PIN for +254700000001:' } });
    if (first.status !== 'paused') return;
    const stored = JSON.parse(JSON.stringify(first.continuation));
    const done = await engine.resume(workflow, stored, { kind: 'input', text: '1234' });
    expect(done).toMatchObject({ status: 'completed', output: { child: { pin: '1234' } } });
    const childId = sink.events.find((event) => event.workflowId === CHILD_WORKFLOW_ID)?.executionId;
    expect(sink.trail(childId)).toEqual(['execution.started', 'execution.paused', 'execution.resumed', 'node:pin:completed:0', 'node:ok:completed:0', 'execution.finished']);
  });

  it('cancels a paused child when the parent is canceled', async () => {
    const asking = specOf([node({ id: 'pin', type: 'ussd.input', prompt: 'PIN:', variable: 'pin', next: 'ok' }), node({ id: 'ok', type: 'end' })]);
    const { engine, sink } = setup({ subworkflows: resolverOf(pinned(asking, CHILD_WORKFLOW_ID)) });
    const first = await engine.start({ executionId: 'parent-3', workflow: pinned(parentSpec()), trigger: { type: 'http', payload: {} } });
    if (first.status !== 'paused') throw new Error('expected a pause');
    expect(await engine.cancel(first.continuation, 'hung up')).toMatchObject({ status: 'canceled', error: { code: 'execution.canceled', message: 'hung up' } });
    expect(sink.finished().map((finished) => finished.status)).toEqual(['canceled', 'canceled']);
  });
});
