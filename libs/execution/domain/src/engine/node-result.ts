import type { JsonValue } from '@ussd/workflow-domain';
import { isRecord, setOwn, toJsonOrNull } from './json.js';
import type { NodeResult } from './node-handler.js';
import { ENGINE_ERROR_CODES, NodeError } from './node-error.js';

const bad = (message: string) => new NodeError(ENGINE_ERROR_CODES.nodeInternal, `the node handler returned ${message}`);

function json(value: unknown, what: string): JsonValue {
  try {
    return toJsonOrNull(value);
  } catch {
    throw bad(`${what} that is not JSON`);
  }
}

/**
 * Checks what a handler returned and makes every value plain JSON. Built-in handlers always
 * pass; the check is for registered ones, whose mistakes become `node.internal` on the node
 * (retryable, catchable) instead of a corrupt continuation or a crash.
 */
export function normalizeResult(result: unknown): NodeResult {
  if (!isRecord(result)) throw bad('no result');
  switch (result['type']) {
    case 'continue': {
      if (typeof result['next'] !== 'string') throw bad("'continue' without a next node id");
      const vars: Record<string, JsonValue> = {};
      if (result['vars'] !== undefined) {
        if (!isRecord(result['vars'])) throw bad('vars that are not an object');
        for (const [name, value] of Object.entries(result['vars'])) setOwn(vars, name, json(value, `variable '${name}'`));
      }
      return { type: 'continue', next: result['next'], output: json(result['output'], 'an output'), vars };
    }
    case 'complete':
      return { type: 'complete', output: json(result['output'], 'an output'), message: typeof result['message'] === 'string' ? result['message'] : '' };
    case 'fail':
      if (typeof result['code'] !== 'string' || result['code'] === '') throw bad("'fail' without a code");
      return { type: 'fail', code: result['code'], message: typeof result['message'] === 'string' ? result['message'] : '' };
    case 'suspend': {
      const waitingFor = result['waitingFor'];
      if (waitingFor !== 'input' && waitingFor !== 'time') throw bad("'suspend' without waitingFor 'input' or 'time'");
      const resumeAt = result['resumeAt'];
      const prompt = result['prompt'];
      return {
        type: 'suspend',
        waitingFor,
        ...(typeof resumeAt === 'number' && Number.isFinite(resumeAt) ? { resumeAt } : {}),
        ...(isRecord(prompt) && (prompt['kind'] === 'menu' || prompt['kind'] === 'input') && typeof prompt['text'] === 'string'
          ? { prompt: { kind: prompt['kind'], text: prompt['text'] } }
          : {}),
        state: json(result['state'], 'a state'),
      };
    }
    default:
      throw bad(`an unknown result type ${JSON.stringify(String(result['type']))}`);
  }
}
