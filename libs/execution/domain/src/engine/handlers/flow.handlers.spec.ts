import { nextExecutionId, node, pinned, setup, specOf } from '../engine.test-helpers.js';

const run = async (nodes: Parameters<typeof specOf>[0], payload: unknown = {}, variables?: Record<string, unknown>) => {
  const context = setup();
  const result = await context.engine.start({ executionId: nextExecutionId(), workflow: pinned(specOf(nodes, {}, variables)), trigger: { type: 'http', payload } });
  return { ...context, result };
};

describe('transform', () => {
  it('evaluates every assignment against the context before the node, then stores them', async () => {
    const { result, sink } = await run(
      [
        node({ id: 'swap', type: 'transform', assign: { a: 'vars.b', b: 'vars.a', total: '$sum(trigger.items.price)' }, next: 'out' }),
        node({ id: 'out', type: 'end', output: "{ 'vars': vars, 'node': nodes.swap }" }),
      ],
      { items: [{ price: 2 }, { price: 3 }] },
      { a: 1, b: 2 },
    );
    const vars = { a: 2, b: 1, total: 5 };
    expect(result).toEqual({ status: 'completed', output: { vars, node: vars }, message: '' });
    expect(sink.nodeEvents('swap')[0]).toMatchObject({ status: 'completed', output: vars });
  });

  it('stores null for an expression that yields nothing, and fails the node with expression.error on a runtime error', async () => {
    const nothing = await run([
      node({ id: 't', type: 'transform', assign: { missing: 'trigger.nope' }, next: 'out' }),
      node({ id: 'out', type: 'end', output: 'vars' }),
    ]);
    expect(nothing.result).toMatchObject({ status: 'completed', output: { missing: null } });
    const broken = await run([
      node({ id: 't', type: 'transform', assign: { n: "$number('abc')" }, next: 'out' }),
      node({ id: 'out', type: 'end' }),
    ]);
    expect(broken.result).toMatchObject({ status: 'failed', error: { code: 'expression.error', nodeId: 't' } });
  });

  it.each([
    ['a range past the item limit', '[1..20000]', /items/],
    ['$pad past the string limit', "$pad('', 30000000)", /string/],
    ['an endless loop', '($f := function($n) { $f($n + 1) }; $f(0))', /work|time/],
  ])('fails with expression.limit on %s, which a catch rule can match', async (_name, source, limit) => {
    const { result } = await run([
      node({ id: 't', type: 'transform', assign: { big: source }, next: 'out', catch: [{ errors: ['expression.limit'], next: 'caught', resultVariable: 'why' }] }),
      node({ id: 'out', type: 'end' }),
      node({ id: 'caught', type: 'end', output: 'vars.why' }),
    ]);
    expect(result).toMatchObject({ status: 'completed', output: { code: 'expression.limit', message: expect.stringMatching(limit) } });
  });

  it('fails a template past the string limit with expression.limit, each placeholder within it', async () => {
    const { result } = await run([node({ id: 'bye', type: 'ussd.end', text: `${"{{ $pad('', 600000) }}".repeat(2)}` })]);
    expect(result).toMatchObject({ status: 'failed', error: { code: 'expression.limit', nodeId: 'bye' } });
  });
});

describe('switch', () => {
  const nodes = [
    node({
      id: 'route',
      type: 'switch',
      cases: [
        { when: 'trigger.amount > 1000', next: 'big' },
        { when: 'trigger.tags', next: 'tagged' },
      ],
      default: 'small',
    }),
    node({ id: 'big', type: 'end', output: "'big'" }),
    node({ id: 'tagged', type: 'end', output: "'tagged'" }),
    node({ id: 'small', type: 'end', output: 'nodes.route' }),
  ];

  it.each([
    [{ amount: 5000, tags: ['x'] }, 'big'],
    [{ amount: 5, tags: ['x'] }, 'tagged'],
    [{ amount: 5, tags: [] }, { next: 'small' }],
    [{ amount: 5, tags: '' }, { next: 'small' }],
    [{}, { next: 'small' }],
  ])('routes %j to %j (first truthy case, JSONata truthiness, else default)', async (payload, output) => {
    expect((await run(nodes, payload)).result).toMatchObject({ status: 'completed', output });
  });
});

describe('delay', () => {
  it('sleeps short delays inline on the clock', async () => {
    const { result, clock, sink } = await run([
      node({ id: 'wait', type: 'delay', durationMs: 800, next: 'out' }),
      node({ id: 'out', type: 'end', output: 'nodes.wait' }),
    ]);
    expect(result).toEqual({ status: 'completed', output: null, message: '' });
    expect(clock.sleeps).toContain(800);
    expect(sink.nodeEvents('wait')[0]).toMatchObject({ status: 'completed', durationMs: 800, output: null });
  });

  it('pauses long delays until resumeAt; an early timer keeps waiting', async () => {
    const { engine, clock } = setup();
    const workflow = pinned(specOf([node({ id: 'wait', type: 'delay', durationMs: 30_000, next: 'out' }), node({ id: 'out', type: 'end', output: "'done'" })]));
    const start = clock.now();
    const first = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'http', payload: {} } });
    expect(first).toMatchObject({ status: 'paused', waitingFor: 'time', resumeAt: new Date(start + 30_000).toISOString() });
    if (first.status !== 'paused') return;
    await clock.advance(10_000);
    const early = await engine.resume(workflow, first.continuation, { kind: 'timer' });
    expect(early).toMatchObject({ status: 'paused', waitingFor: 'time', resumeAt: new Date(start + 30_000).toISOString() });
    if (early.status !== 'paused') return;
    await clock.advance(20_000);
    expect(await engine.resume(workflow, early.continuation, { kind: 'timer' })).toMatchObject({ status: 'completed', output: 'done' });
  });
});

describe('end', () => {
  it('completes with its output expression, or null without one', async () => {
    expect((await run([node({ id: 'e', type: 'end', output: "{ 'sum': trigger.a + trigger.b, 'id': execution.id != null }" })], { a: 1, b: 2 })).result).toEqual({
      status: 'completed',
      output: { sum: 3, id: true },
      message: '',
    });
    expect((await run([node({ id: 'e', type: 'end' })])).result).toEqual({ status: 'completed', output: null, message: '' });
  });
});

describe('fail', () => {
  it('ends the execution as failed with its code and rendered message', async () => {
    const { result, sink } = await run([node({ id: 'no', type: 'fail', error: 'airtime.invalid_amount', message: 'got {{ trigger.amount }}' })], { amount: 3 });
    expect(result).toEqual({ status: 'failed', error: { code: 'airtime.invalid_amount', message: 'got 3', nodeId: 'no' } });
    expect(sink.nodeEvents('no')).toMatchObject([{ status: 'failed', error: { code: 'airtime.invalid_amount' } }]);
    expect(sink.finished()).toMatchObject([{ status: 'failed', error: { code: 'airtime.invalid_amount' } }]);
  });
});
