import fc from 'fast-check';
import { isTerminal } from '../execution-status.js';
import { WorkflowEngine } from './engine.js';
import type { EngineResult } from './engine.types.js';
import { CHILD_WORKFLOW_ID, MemorySink, pinned, SESSION } from './engine.test-helpers.js';
import { FakeClock } from './fake-clock.js';
import { HttpClientError, type HttpClient } from './http-client.js';
import { runnableSpecArbitrary } from './spec-arbitrary.test-helpers.js';

type HttpOutcome = 'ok-json' | 'ok-text' | '503' | '404' | 'network' | 'too-large' | 'hang';

/** A stand-in transport (the real client has its own tests); 'hang' waits for the abort, in virtual time. */
function scriptedHttp(outcomes: readonly HttpOutcome[]): HttpClient {
  let call = 0;
  return {
    request: ({ signal }) => {
      const outcome = outcomes[call++ % outcomes.length] ?? 'ok-json';
      switch (outcome) {
        case 'ok-json':
          return Promise.resolve({ status: 200, headers: { 'content-type': 'application/json' }, body: '{"balance":12}' });
        case 'ok-text':
          return Promise.resolve({ status: 204, headers: {}, body: '' });
        case '503':
        case '404':
          return Promise.resolve({ status: Number(outcome), headers: {}, body: 'no' });
        case 'network':
          return Promise.reject(new HttpClientError('network', 'refused'));
        case 'too-large':
          return Promise.reject(new HttpClientError('too_large', 'big'));
        case 'hang':
          return new Promise((_resolve, reject) => signal?.addEventListener('abort', () => reject(new HttpClientError('aborted', 'aborted')), { once: true }));
      }
    },
  };
}

const payloadArb = fc.oneof(
  fc.record({ amount: fc.oneof(fc.integer(), fc.string(), fc.constant(null)), msisdn: fc.string(), items: fc.array(fc.integer(), { maxLength: 3 }), name: fc.string(), url: fc.constantFrom('https://a.example.com', 'ftp://x', '') }),
  fc.jsonValue({ maxDepth: 3 }),
  fc.anything({ maxDepth: 2 }),
);

const hopArb = fc.record({
  wake: fc.oneof(fc.constant({ kind: 'timer' as const }), fc.constantFrom('1', '2', '3', '0', '250', 'ab', '', '  5 ', '99999').map((text) => ({ kind: 'input' as const, text }))),
  advanceMs: fc.constantFrom(0, 1_000, 30_000, 4_000_000),
});

const settle = async () => {
  for (let i = 0; i < 5; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
};

describe('engine property: random valid specs and payloads', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeAll(() => process.on('unhandledRejection', onUnhandled));
  afterAll(() => process.off('unhandledRejection', onUnhandled));

  it('always end terminal or paused, never throw, and write exactly one start and finish per execution', async () => {
    await fc.assert(
      fc.asyncProperty(
        runnableSpecArbitrary(),
        runnableSpecArbitrary(),
        payloadArb,
        fc.boolean(),
        fc.array(fc.constantFrom<HttpOutcome>('ok-json', 'ok-text', '503', '404', 'network', 'too-large', 'hang'), { minLength: 1, maxLength: 4 }),
        fc.array(hopArb, { maxLength: 6 }),
        async (spec, childSpec, payload, ussd, outcomes, hops) => {
          const sink = new MemorySink();
          const clock = new FakeClock();
          const engine = new WorkflowEngine({ sink, clock, http: scriptedHttp(outcomes), subworkflows: { resolvePublished: async (id) => (id === CHILD_WORKFLOW_ID ? pinned(childSpec, CHILD_WORKFLOW_ID, 3) : null) }, outputCapBytes: 512 });
          const workflow = pinned(spec);
          let result: EngineResult = await engine.start({ executionId: 'root', workflow, trigger: ussd ? { type: 'ussd', payload } : { type: 'http', payload }, session: ussd ? SESSION : null });
          for (const hop of hops) {
            if (result.status !== 'paused') break;
            await clock.advance(hop.advanceMs);
            const stored = JSON.parse(JSON.stringify(result.continuation)) as typeof result.continuation;
            result = await engine.resume(workflow, stored, hop.wake);
          }
          if (result.status === 'paused') result = await engine.cancel(JSON.parse(JSON.stringify(result.continuation)) as typeof result.continuation);

          if (result.status === 'paused') throw new Error('still paused after cancel()');
          expect(isTerminal(result.status)).toBe(true);
          expect(result.status === 'completed' || (result.error.code.length > 0 && result.error.message.length > 0)).toBe(true);
          await settle();
          const byExecution = new Map<string, string[]>();
          for (const event of sink.events) byExecution.set(event.executionId, [...(byExecution.get(event.executionId) ?? []), event.type]);
          expect(byExecution.get('root')?.at(-1)).toBe('execution.finished');
          for (const [, types] of byExecution) {
            expect(types.filter((type) => type === 'execution.started')).toHaveLength(1);
            expect(types.filter((type) => type === 'execution.finished')).toHaveLength(1);
            expect(types[0]).toBe('execution.started');
            expect(types.at(-1)).toBe('execution.finished');
          }
          expect(sink.finished('root')[0]?.status).toBe(result.status);
          expect(unhandled).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('also end terminal, never throw and never finish twice when the sink fails at a random event', async () => {
    await fc.assert(
      fc.asyncProperty(runnableSpecArbitrary(), payloadArb, fc.nat({ max: 12 }), fc.constantFrom<'throw' | 'reject'>('throw', 'reject'), fc.array(hopArb, { maxLength: 4 }), async (spec, payload, failAt, mode, hops) => {
        const sink = new MemorySink();
        let seen = 0;
        sink.mode = mode;
        sink.failOn = () => seen++ === failAt;
        const clock = new FakeClock();
        const engine = new WorkflowEngine({ sink, clock, http: scriptedHttp(['ok-json', '503']) });
        const workflow = pinned(spec);
        let result: EngineResult = await engine.start({ executionId: 'root', workflow, trigger: { type: 'ussd', payload }, session: SESSION });
        for (const hop of hops) {
          if (result.status !== 'paused') break;
          await clock.advance(hop.advanceMs);
          result = await engine.resume(workflow, result.continuation, hop.wake);
        }
        if (result.status === 'paused') result = await engine.cancel(result.continuation);
        if (result.status === 'paused') throw new Error('still paused after cancel()');
        expect(isTerminal(result.status)).toBe(true);
        if (seen > failAt && result.status !== 'failed') throw new Error(`a sink failure went unnoticed: ${JSON.stringify(result)}`);
        await settle();
        expect(sink.finished('root').length).toBeLessThanOrEqual(1);
        expect(unhandled).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});
