import type { EngineResult } from '../engine.types.js';
import { nextExecutionId, node, pinned, SESSION, setup, specOf } from '../engine.test-helpers.js';

const menuSpec = (extra: Record<string, unknown> = {}) =>
  specOf([
    node({
      id: 'main',
      type: 'ussd.menu',
      text: 'Hi {{ session.msisdn }}',
      options: [
        { key: '1', label: 'Balance', next: 'balance' },
        { key: '2', label: 'Exit', next: 'bye' },
      ],
      variable: 'choice',
      ...extra,
    }),
    node({ id: 'balance', type: 'ussd.end', text: 'Balance: {{ vars.choice }} via {{ nodes.main.key }}' }),
    node({ id: 'bye', type: 'ussd.end', text: 'Bye' }),
  ]);

function paused(result: EngineResult) {
  if (result.status !== 'paused') throw new Error(`expected paused, got ${JSON.stringify(result)}`);
  return result;
}

describe('ussd.menu', () => {
  it('shows the rendered menu, then follows the chosen option and stores the key', async () => {
    const { engine, sink } = setup();
    const workflow = pinned(menuSpec());
    const first = paused(await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: { text: '' } }, session: SESSION }));
    expect(first).toMatchObject({ waitingFor: 'input', prompt: { kind: 'menu', text: 'Hi +254700000001\n1. Balance\n2. Exit' } });
    const done = await engine.resume(workflow, first.continuation, { kind: 'input', text: ' 1 ' });
    expect(done).toEqual({ status: 'completed', output: { text: 'Balance: 1 via 1' }, message: 'Balance: 1 via 1' });
    expect(sink.nodeEvents('main')).toMatchObject([{ status: 'completed', output: { key: '1' }, attempt: 0 }]);
  });

  it('re-prompts after an invalid choice with invalidText above the menu, keeping the same attempt', async () => {
    const { engine, sink } = setup();
    const workflow = pinned(menuSpec({ invalidText: 'Reply 1 or 2.' }));
    const first = paused(await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
    const again = paused(await engine.resume(workflow, first.continuation, { kind: 'input', text: '7' }));
    expect(again.prompt?.text).toBe('Reply 1 or 2.\nHi +254700000001\n1. Balance\n2. Exit');
    expect(again.continuation.node).toMatchObject({ id: 'main', attempt: 0, state: { invalid: 1 } });
    const done = await engine.resume(workflow, again.continuation, { kind: 'input', text: '2' });
    expect(done).toMatchObject({ status: 'completed', message: 'Bye' });
    expect(sink.nodeEvents('main')).toHaveLength(1);
  });

  it('uses the default invalid text', async () => {
    const { engine } = setup();
    const workflow = pinned(menuSpec());
    const first = paused(await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
    const again = paused(await engine.resume(workflow, first.continuation, { kind: 'input', text: 'x' }));
    expect(again.prompt?.text.startsWith('Invalid choice.\n')).toBe(true);
  });

  it('fails with ussd.invalid_choice after maxInvalidAttempts', async () => {
    const { engine, sink } = setup();
    const workflow = pinned(menuSpec({ maxInvalidAttempts: 2 }));
    const first = paused(await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
    const second = paused(await engine.resume(workflow, first.continuation, { kind: 'input', text: '9' }));
    const end = await engine.resume(workflow, second.continuation, { kind: 'input', text: '8' });
    expect(end).toMatchObject({ status: 'failed', error: { code: 'ussd.invalid_choice', nodeId: 'main' } });
    expect(sink.nodeEvents('main')).toMatchObject([{ status: 'failed', attempt: 0, error: { code: 'ussd.invalid_choice' } }]);
  });

  it('lets a catch rule route ussd.invalid_choice', async () => {
    const { engine } = setup();
    const workflow = pinned(menuSpec({ maxInvalidAttempts: 1, catch: [{ errors: ['ussd.*'], next: 'bye', resultVariable: 'why' }] }));
    const first = paused(await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
    expect(await engine.resume(workflow, first.continuation, { kind: 'input', text: '5' })).toMatchObject({ status: 'completed', message: 'Bye' });
  });

  it('keeps waiting on an early timer', async () => {
    const { engine } = setup();
    const workflow = pinned(menuSpec());
    const first = paused(await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
    const again = paused(await engine.resume(workflow, first.continuation, { kind: 'timer' }));
    expect(again.prompt).toEqual(first.prompt);
  });
});

describe('ussd.input', () => {
  const inputSpec = (extra: Record<string, unknown> = {}) =>
    specOf([
      node({
        id: 'ask',
        type: 'ussd.input',
        prompt: 'Amount in {{ vars.currency }}:',
        variable: 'amount',
        validation: { pattern: '[0-9]{2,4}', expression: '$number($value) >= 10' },
        errorText: 'Enter 10 to 9999.',
        next: 'done',
        ...extra,
      }),
      node({ id: 'done', type: 'end', output: "{ 'amount': vars.amount, 'value': nodes.ask.value, 'input': session.input }" }),
    ], {}, { currency: 'KES' });

  it('validates the answer and stores it as a string', async () => {
    const { engine } = setup();
    const workflow = pinned(inputSpec());
    const first = paused(await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
    expect(first.prompt).toEqual({ kind: 'input', text: 'Amount in KES:' });
    const done = await engine.resume(workflow, first.continuation, { kind: 'input', text: '250' });
    expect(done).toMatchObject({ status: 'completed', output: { amount: '250', value: '250', input: '250' } });
  });

  it.each([
    ['a pattern miss', '2x0'],
    ['a partial pattern match (the whole answer must match)', '12345'],
    ['a falsy expression', '05'],
  ])('re-prompts on %s', async (_case, answer) => {
    const { engine } = setup();
    const workflow = pinned(inputSpec());
    const first = paused(await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
    const again = paused(await engine.resume(workflow, first.continuation, { kind: 'input', text: answer }));
    expect(again.prompt?.text).toBe('Enter 10 to 9999.\nAmount in KES:');
  });

  it('matches the pattern in linear time: a catastrophic pattern on a hostile reply answers at once', async () => {
    const { engine } = setup();
    const workflow = pinned(inputSpec({ validation: { pattern: '(a+)+' } }));
    const first = paused(await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
    const started = performance.now();
    // 40 a's and a '!': JavaScript's backtracking RegExp would take hours; RE2 microseconds.
    const again = paused(await engine.resume(workflow, first.continuation, { kind: 'input', text: `${'a'.repeat(40)}!` }));
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(again.prompt?.text).toBe('Enter 10 to 9999.\nAmount in KES:');
    expect(await engine.resume(workflow, first.continuation, { kind: 'input', text: 'aaaa' })).toMatchObject({ status: 'completed', output: { amount: 'aaaa' } });
  });

  it('fails with expression.error on a pattern RE2 cannot run (a spec published before the check)', async () => {
    const { engine } = setup();
    // The validator refuses it now; a spec published earlier still holds it.
    const published = JSON.parse(JSON.stringify(inputSpec())) as { nodes: { validation?: unknown }[] };
    (published.nodes[0] as { validation?: unknown }).validation = { pattern: '(?=1)[0-9]+' };
    const workflow = pinned(published as unknown as Parameters<typeof pinned>[0]);
    const first = paused(await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION }));
    expect(await engine.resume(workflow, first.continuation, { kind: 'input', text: '12' })).toMatchObject({ status: 'failed', error: { code: 'expression.error', message: expect.stringMatching(/cannot run/) } });
  });

  it('checks lengths in characters and fails with ussd.invalid_input after maxInvalidAttempts', async () => {
    const { engine } = setup();
    const workflow = pinned(inputSpec({ validation: { minLength: 2, maxLength: 3 }, maxInvalidAttempts: 2 }));
    const first = paused(await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'http', payload: {} } }));
    expect(await engine.resume(workflow, first.continuation, { kind: 'input', text: 'ñé' })).toMatchObject({ status: 'completed', output: { amount: 'ñé' } });
    const second = paused(await engine.resume(workflow, first.continuation, { kind: 'input', text: 'a' }));
    expect(await engine.resume(workflow, second.continuation, { kind: 'input', text: 'abcd' })).toMatchObject({ status: 'failed', error: { code: 'ussd.invalid_input', nodeId: 'ask' } });
  });
});

describe('ussd.end', () => {
  it('completes with { text } and the final message, also on an HTTP execution', async () => {
    const { engine, sink } = setup();
    const workflow = pinned(specOf([node({ id: 'bye', type: 'ussd.end', text: 'Thanks {{ trigger.name }}' })]));
    const result = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'http', payload: { name: 'Ann' } } });
    expect(result).toEqual({ status: 'completed', output: { text: 'Thanks Ann' }, message: 'Thanks Ann' });
    expect(sink.trail()).toEqual(['execution.started', 'node:bye:completed:0', 'execution.finished']);
  });
});
