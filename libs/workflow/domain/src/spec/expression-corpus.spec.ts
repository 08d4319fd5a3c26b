import { monitorEventLoopDelay } from 'node:perf_hooks';
import { CORPUS_CONTEXT, EXPRESSION_CORPUS, type CorpusPayload } from './expression-corpus.js';
import { ExpressionLimitError } from './expression-sandbox.js';
import { compileExpression } from './expressions.js';
import { validateWorkflowSpec } from './spec.validator.js';

type Outcome = { refused: string; message: string } | { limit: string; code: string; message: string } | { error: string; message: string } | { value: unknown };

async function run(payload: CorpusPayload): Promise<Outcome> {
  const compiled = compileExpression(payload.source);
  if (!compiled.ok) return { refused: compiled.problem, message: compiled.message };
  try {
    const value = await compiled.expression.evaluate(structuredClone(CORPUS_CONTEXT));
    // What the engine keeps is the JSON copy; anything that is not JSON would not survive it.
    return { value: value === undefined ? undefined : (JSON.parse(JSON.stringify(value)) as unknown) };
  } catch (error) {
    if (error instanceof ExpressionLimitError) return { limit: error.limit, code: error.code, message: error.message };
    const { code, message } = error as { code?: unknown; message?: unknown };
    return { error: String(code), message: String(message) };
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The longest the event loop waited while the payload was evaluated, in ms. */
async function longestBlock(payload: CorpusPayload): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  histogram.enable();
  await sleep(10);
  await run(payload);
  await sleep(10);
  histogram.disable();
  return histogram.max / 1e6;
}

describe('the expression corpus (known sandbox-escape and denial-of-service payloads)', () => {
  const prototypeBefore = Object.getOwnPropertyNames(Object.prototype).sort();
  const arrayPrototypeBefore = Object.getOwnPropertyNames(Array.prototype).sort();
  const globalsBefore = Object.getOwnPropertyNames(globalThis).sort();

  it.each(EXPRESSION_CORPUS.map((payload) => [payload.family, payload.name, payload] as const))('%s: %s is contained', async (_family, _name, payload) => {
    const outcome = await run(payload);
    const expected = payload.expect;
    if ('refused' in expected) {
      expect(outcome).toMatchObject({ refused: expected.refused, message: expect.any(String) });
    } else if ('limit' in expected) {
      expect(outcome).toMatchObject({ code: 'expression.limit', message: expect.any(String) });
      const limit = (outcome as { limit?: string }).limit;
      if (expected.limit === 'cpu') expect(['work', 'time']).toContain(limit);
      else expect(limit).toBe(expected.limit);
    } else if ('error' in expected) {
      expect(outcome).toMatchObject({ error: expect.stringMatching(/^[A-Z]\d{4}$/), message: expect.any(String) });
    } else {
      expect(outcome).toEqual({ value: expected.value });
    }
  });

  it('refuses every statically detectable payload in a spec, in the validator’s one error shape', () => {
    const refused = EXPRESSION_CORPUS.filter((payload) => 'refused' in payload.expect);
    const assign = Object.fromEntries(refused.map((payload, index) => [`p${index}`, payload.source]));
    const spec = {
      specVersion: 1,
      settings: { executionTimeoutMs: 60_000, maxSteps: 10 },
      triggers: [{ type: 'http', entry: 't' }],
      nodes: [
        { id: 't', type: 'transform', assign, next: 'done' },
        { id: 'done', type: 'end' },
      ],
    };
    const { valid, errors } = validateWorkflowSpec(spec);
    expect(valid).toBe(false);
    expect(errors).toHaveLength(refused.length);
    refused.forEach((payload, index) => {
      const error = errors.find((candidate) => candidate.pointer === `/nodes/0/assign/p${index}`);
      expect(error).toEqual({ pointer: `/nodes/0/assign/p${index}`, code: (payload.expect as { refused: string }).refused, message: expect.any(String) });
    });
  });

  it('never holds the event loop for 100 ms while evaluating a payload', async () => {
    const offenders: string[] = [];
    for (const payload of EXPRESSION_CORPUS) {
      if ('refused' in payload.expect) continue;
      // Best of three: a shared CI machine can stall the process for reasons of its own.
      let best = Number.POSITIVE_INFINITY;
      for (let attempt = 0; attempt < 3 && best >= 100; attempt += 1) best = Math.min(best, await longestBlock(payload));
      if (best >= 100) offenders.push(`${payload.name}: ${best.toFixed(0)} ms`);
    }
    expect(offenders).toEqual([]);
  }, 180_000);

  it('leaves no trace on the host: prototypes and globals are as they were', async () => {
    for (const payload of EXPRESSION_CORPUS) await run(payload);
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeBefore);
    expect(Object.getOwnPropertyNames(Array.prototype).sort()).toEqual(arrayPrototypeBefore);
    expect(Object.getOwnPropertyNames(globalThis).sort()).toEqual(globalsBefore);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  }, 120_000);
});
