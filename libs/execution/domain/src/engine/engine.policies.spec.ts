import type { HttpRequestNode } from '@ussd/workflow-domain';
import { nextExecutionId, node, pinned, SESSION, setup, specOf } from './engine.test-helpers.js';
import type { NodeContext, NodeHandler } from './node-handler.js';
import { NodeHandlerRegistry } from './node-handler-registry.js';
import { NodeError } from './node-error.js';

/** An http.request stand-in that raises the scripted codes in turn (null: success). */
function scripted(codes: readonly (string | null)[], work?: (context: NodeContext) => Promise<void>): NodeHandler<HttpRequestNode> {
  let call = 0;
  return {
    async run(current, context) {
      await work?.(context);
      const code = codes[Math.min(call, codes.length - 1)];
      call += 1;
      if (code !== null && code !== undefined) throw new NodeError(code, `scripted ${code}`);
      return { type: 'continue', next: current.next, output: { call } };
    },
  };
}

const withHandler = (handler: NodeHandler<HttpRequestNode>, random = () => 0.5) =>
  setup({ handlers: NodeHandlerRegistry.withBuiltins().replace('http.request', handler), random });

const callSpec = (fields: Record<string, unknown>, settings: Record<string, number> = {}, more: Parameters<typeof specOf>[0] = []) =>
  pinned(
    specOf(
      [
        node({ id: 'call', type: 'http.request', method: 'GET', url: 'https://billing.example.com/x', next: 'out', ...fields }),
        node({ id: 'out', type: 'end', output: "{ 'call': nodes.call, 'err': vars.err }" }),
        ...more,
      ],
      settings,
    ),
  );
const fallback = [node({ id: 'fallback', type: 'end', output: "{ 'err': vars.err }" })];

/** Gaps between consecutive attempts' start times: with instant attempts, the backoff delays. */
const gaps = (executedAt: string[]) => executedAt.slice(1).map((at, index) => Date.parse(at) - Date.parse(executedAt[index] ?? at));

describe('retry', () => {
  it('backs off exponentially up to maxDelayMs, numbering attempts from 0', async () => {
    const { engine, sink } = withHandler(scripted(['http.status.503', 'http.status.503', 'http.status.502', null]));
    const result = await engine.start({
      executionId: nextExecutionId(),
      workflow: callSpec({ retry: [{ errors: ['http.status.5*'], maxAttempts: 4, intervalMs: 100, backoffRate: 3, maxDelayMs: 500 }] }),
      trigger: { type: 'http', payload: {} },
    });
    expect(result).toMatchObject({ status: 'completed', output: { call: { call: 4 } } });
    const attempts = sink.nodeEvents('call');
    expect(attempts.map((event) => [event.attempt, event.status, event.error?.code ?? null])).toEqual([
      [0, 'failed', 'http.status.503'],
      [1, 'failed', 'http.status.503'],
      [2, 'failed', 'http.status.502'],
      [3, 'completed', null],
    ]);
    expect(gaps(attempts.map((event) => event.executedAt))).toEqual([100, 300, 500]);
  });

  it('uses the defaults (1 s, rate 2) and counts attempts per rule', async () => {
    const { engine, sink } = withHandler(scripted(['http.status.503', 'http.status.429', 'http.status.503', 'http.status.429']));
    const result = await engine.start({
      executionId: nextExecutionId(),
      workflow: callSpec({
        retry: [
          { errors: ['http.status.429'], maxAttempts: 2 },
          { errors: ['http.status.5*'], maxAttempts: 3, intervalMs: 10 },
        ],
      }),
      trigger: { type: 'http', payload: {} },
    });
    // 503 (rule 2: 1 of 3), 429 (rule 1: 1 of 2), 503 (rule 2: 2 of 3), 429 (rule 1: 2 of 2, exhausted).
    expect(result).toMatchObject({ status: 'failed', error: { code: 'http.status.429', nodeId: 'call' } });
    const attempts = sink.nodeEvents('call');
    expect(attempts.map((event) => event.attempt)).toEqual([0, 1, 2, 3]);
    expect(gaps(attempts.map((event) => event.executedAt))).toEqual([10, 1000, 20]);
  });

  it.each([
    ['full', 500, 1000],
    ['equal', 750, 1500],
  ])('applies %s jitter with the injected random source', async (jitter, first, second) => {
    const { engine, sink } = withHandler(scripted(['node.timeout', 'node.timeout', null]), () => 0.5);
    await engine.start({
      executionId: nextExecutionId(),
      workflow: callSpec({ retry: [{ errors: ['node.timeout'], maxAttempts: 3, intervalMs: 1000, jitter }] }),
      trigger: { type: 'http', payload: {} },
    });
    expect(gaps(sink.nodeEvents('call').map((event) => event.executedAt))).toEqual([first, second]);
  });

  it('does not retry an error no rule matches, nor past maxAttempts 1', async () => {
    for (const retry of [[{ errors: ['http.status.5*'], maxAttempts: 5 }], [{ errors: ['*'], maxAttempts: 1 }]]) {
      const { engine, sink } = withHandler(scripted(['http.network']));
      expect(await engine.start({ executionId: nextExecutionId(), workflow: callSpec({ retry }), trigger: { type: 'http', payload: {} } })).toMatchObject({
        status: 'failed',
        error: { code: 'http.network' },
      });
      expect(sink.nodeEvents('call')).toHaveLength(1);
    }
  });

  it('counts every attempt as a step', async () => {
    const { engine } = withHandler(scripted(['http.network']));
    const result = await engine.start({
      executionId: nextExecutionId(),
      workflow: callSpec({ retry: [{ errors: ['*'], maxAttempts: 10, intervalMs: 0 }] }, { maxSteps: 4 }),
      trigger: { type: 'http', payload: {} },
    });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'execution.max_steps', nodeId: 'call' } });
  });
});

describe('catch', () => {
  it('routes the error once retries are exhausted, storing { code, message } in resultVariable', async () => {
    const { engine, sink } = withHandler(scripted(['http.status.503']));
    const result = await engine.start({
      executionId: nextExecutionId(),
      workflow: callSpec(
        {
          retry: [{ errors: ['http.status.503'], maxAttempts: 2, intervalMs: 5 }],
          catch: [
            { errors: ['http.status.4*'], next: 'out' },
            { errors: ['*'], next: 'fallback', resultVariable: 'err' },
          ],
        },
        {},
        fallback,
      ),
      trigger: { type: 'http', payload: {} },
    });
    expect(result).toMatchObject({ status: 'completed', output: { err: { code: 'http.status.503', message: 'scripted http.status.503' } } });
    expect(sink.trail()).toEqual(['execution.started', 'node:call:failed:0', 'node:call:failed:1', 'node:fallback:completed:0', 'execution.finished']);
  });

  it('is not consulted for execution-wide limits', async () => {
    const { engine } = withHandler(scripted([null]));
    const result = await engine.start({
      executionId: nextExecutionId(),
      workflow: callSpec({ catch: [{ errors: ['*'], next: 'fallback' }] }, { maxSteps: 1 }, fallback),
      trigger: { type: 'http', payload: {} },
    });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'execution.max_steps', nodeId: 'out' } });
  });
});

describe('node timeout', () => {
  const slow = (codes: (string | null)[] = [null]) => scripted(codes, (context) => context.clock.sleep(5_000, context.signal));

  it('aborts the attempt past timeoutMs and ends the execution as timeout, naming the node', async () => {
    const { engine, sink, clock } = withHandler(slow());
    const start = clock.now();
    const result = await engine.start({ executionId: nextExecutionId(), workflow: callSpec({ timeoutMs: 1_000 }), trigger: { type: 'http', payload: {} } });
    expect(result).toMatchObject({ status: 'timeout', error: { code: 'node.timeout', nodeId: 'call', message: expect.stringContaining("'call'") } });
    expect(clock.now() - start).toBe(1_000);
    expect(sink.nodeEvents('call')).toMatchObject([{ status: 'timeout', durationMs: 1_000, error: { code: 'node.timeout' } }]);
    expect(sink.finished()).toMatchObject([{ status: 'timeout' }]);
  });

  it('applies the type default (http.request: 10 s) when the node sets none', async () => {
    const { engine, clock } = withHandler({ ...slow(), defaultTimeoutMs: 10_000, run: async (_node, context) => context.clock.sleep(60_000, context.signal).then(() => ({ type: 'continue', next: 'out', output: null })) });
    const start = clock.now();
    expect(await engine.start({ executionId: nextExecutionId(), workflow: callSpec({}), trigger: { type: 'http', payload: {} } })).toMatchObject({ status: 'timeout', error: { code: 'node.timeout' } });
    expect(clock.now() - start).toBe(10_000);
  });

  it('is retryable and catchable like any node error', async () => {
    const { engine, sink } = withHandler(slow());
    const result = await engine.start({
      executionId: nextExecutionId(),
      workflow: callSpec({ timeoutMs: 100, retry: [{ errors: ['node.timeout'], maxAttempts: 2, intervalMs: 10 }], catch: [{ errors: ['node.timeout'], next: 'fallback', resultVariable: 'err' }] }, {}, fallback),
      trigger: { type: 'http', payload: {} },
    });
    expect(result).toMatchObject({ status: 'completed', output: { err: { code: 'node.timeout' } } });
    expect(sink.nodeEvents('call').map((event) => event.status)).toEqual(['timeout', 'timeout']);
  });

  it("bounds a prompt's wait for the reply: resumeAt says when, a late reply raises node.timeout", async () => {
    const { engine, clock, sink } = setup();
    const workflow = pinned(
      specOf([
        node({ id: 'menu', type: 'ussd.menu', text: 'Pick', options: [{ key: '1', label: 'One', next: 'one' }], timeoutMs: 5_000, catch: [{ errors: ['node.timeout'], next: 'late' }] }),
        node({ id: 'one', type: 'ussd.end', text: 'One' }),
        node({ id: 'late', type: 'ussd.end', text: 'Too slow' }),
      ]),
    );
    const start = clock.now();
    const first = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION });
    if (first.status !== 'paused') throw new Error('expected a pause');
    expect(first.resumeAt).toBe(new Date(start + 5_000).toISOString());
    await clock.advance(6_000);
    expect(await engine.resume(workflow, first.continuation, { kind: 'input', text: '1' })).toMatchObject({ status: 'completed', message: 'Too slow' });
    expect(sink.nodeEvents('menu')).toMatchObject([{ status: 'timeout', durationMs: 6_000 }]);
  });
});

describe('execution timeout', () => {
  it('ends a running attempt at the deadline with status timeout, uncatchable', async () => {
    const { engine, sink, clock } = withHandler(scripted([null], (context) => context.clock.sleep(5_000, context.signal)));
    const start = clock.now();
    const result = await engine.start({
      executionId: nextExecutionId(),
      workflow: callSpec({ timeoutMs: 4_000, catch: [{ errors: ['*'], next: 'fallback' }] }, { executionTimeoutMs: 1_000 }, fallback),
      trigger: { type: 'http', payload: {} },
    });
    expect(result).toMatchObject({ status: 'timeout', error: { code: 'execution.timeout', nodeId: 'call', message: expect.stringContaining("'call'") } });
    expect(clock.now() - start).toBe(1_000);
    expect(sink.nodeEvents('call')).toMatchObject([{ status: 'timeout', error: { code: 'execution.timeout' } }]);
    expect(sink.events[0]).toMatchObject({ type: 'execution.started', payload: { deadlineAt: new Date(start + 1_000).toISOString() } });
  });

  it('ends a retry wait that would pass the deadline', async () => {
    const { engine, clock } = withHandler(scripted(['http.network']));
    const start = clock.now();
    const result = await engine.start({
      executionId: nextExecutionId(),
      workflow: callSpec({ retry: [{ errors: ['*'], maxAttempts: 3, intervalMs: 60_000 }] }, { executionTimeoutMs: 2_000 }),
      trigger: { type: 'http', payload: {} },
    });
    expect(result).toMatchObject({ status: 'timeout', error: { code: 'execution.timeout', nodeId: 'call' } });
    expect(clock.now() - start).toBe(2_000);
  });

  it('holds across pauses: resuming after the deadline ends the execution as timeout', async () => {
    const { engine, clock, sink } = setup();
    const workflow = pinned(specOf([node({ id: 'ask', type: 'ussd.input', prompt: 'Name?', variable: 'name', next: 'end' }), node({ id: 'end', type: 'end' })], { executionTimeoutMs: 60_000 }));
    const first = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION });
    if (first.status !== 'paused') throw new Error('expected a pause');
    expect(first.resumeAt).toBe(first.continuation.deadlineAt);
    await clock.advance(61_000);
    expect(await engine.resume(workflow, first.continuation, { kind: 'timer' })).toMatchObject({ status: 'timeout', error: { code: 'execution.timeout', nodeId: 'ask' } });
    expect(sink.trail()).toEqual(['execution.started', 'execution.paused', 'execution.resumed', 'node:ask:timeout:0', 'execution.finished']);
  });
});

describe('step limit', () => {
  it('stops a transform loop with execution.max_steps', async () => {
    const { engine, sink } = setup();
    const workflow = pinned(
      specOf(
        [
          node({ id: 'inc', type: 'transform', assign: { n: 'vars.n + 1' }, next: 'check' }),
          node({ id: 'check', type: 'switch', cases: [{ when: 'vars.n > 1000000', next: 'done' }], default: 'inc' }),
          node({ id: 'done', type: 'end' }),
        ],
        { maxSteps: 9 },
        { n: 0 },
      ),
    );
    const result = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'http', payload: {} } });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'execution.max_steps', nodeId: 'check', message: expect.stringContaining('9') } });
    expect(sink.nodeEvents()).toHaveLength(9);
  });

  it('stops a menu that loops to itself', async () => {
    const { engine } = setup();
    const workflow = pinned(
      specOf(
        [
          node({
            id: 'menu',
            type: 'ussd.menu',
            text: 'Again?',
            options: [
              { key: '1', label: 'Yes', next: 'menu' },
              { key: '0', label: 'No', next: 'bye' },
            ],
          }),
          node({ id: 'bye', type: 'ussd.end', text: 'Bye' }),
        ],
        { maxSteps: 3 },
      ),
    );
    let result = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION });
    for (let hop = 0; hop < 3 && result.status === 'paused'; hop += 1) result = await engine.resume(workflow, result.continuation, { kind: 'input', text: '1' });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'execution.max_steps', nodeId: 'menu' } });
  });
});
