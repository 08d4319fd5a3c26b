import { NODE_TYPES } from './node-types.js';
import { validateWorkflowSpec } from './spec.validator.js';

type Json = Record<string, unknown>;

/** The node under test is `/nodes/0` and the entry; `done` ends every path (and has its own trigger, for terminal nodes). */
function specWith(node: Json): Json {
  return {
    specVersion: 1,
    settings: { executionTimeoutMs: 60_000, maxSteps: 100 },
    triggers: [
      { type: 'http', entry: node['id'] },
      { type: 'ussd', serviceCode: '*100#', environments: ['staging'], entry: 'done' },
    ],
    nodes: [node, { id: 'done', type: 'end' }],
  };
}

function errorsOf(node: Json) {
  const result = validateWorkflowSpec(specWith(node));
  return result.valid ? [] : result.errors.map(({ pointer, code }) => ({ pointer, code }));
}

const policies = {
  timeoutMs: 2000,
  retry: [{ errors: ['node.timeout'], maxAttempts: 3, intervalMs: 100, backoffRate: 2, maxDelayMs: 1000, jitter: 'full' }],
  catch: [{ errors: ['*'], next: 'done', resultVariable: 'lastError' }],
};

/** Per type: one valid node (with every optional field) and edits that each break one rule. */
const cases: Record<string, { valid: Json; invalid: [string, Json, string, string][] }> = {
  'ussd.menu': {
    valid: {
      id: 'menu',
      type: 'ussd.menu',
      text: 'Hello {{ vars.name }}',
      options: [
        { key: '1', label: 'Finish', next: 'done' },
        { key: '0', label: 'Again', next: 'menu' },
      ],
      invalidText: 'Reply 1 or 0',
      maxInvalidAttempts: 3,
      variable: 'choice',
      ...policies,
    },
    invalid: [
      ['a repeated key', { options: [{ key: '1', label: 'A', next: 'done' }, { key: '1', label: 'B', next: 'done' }] }, '/nodes/0/options/1/key', 'duplicate-option-key'],
      ['a key that is not dialable', { options: [{ key: 'a', label: 'A', next: 'done' }] }, '/nodes/0/options/0/key', 'schema'],
      ['21 options', { options: Array.from({ length: 21 }, (_, i) => ({ key: String(i), label: 'x', next: 'done' })) }, '/nodes/0/options', 'schema'],
      ['no options', { options: [] }, '/nodes/0/options', 'schema'],
      ['an option to nowhere', { options: [{ key: '1', label: 'A', next: 'nowhere' }] }, '/nodes/0/options/0/next', 'unknown-node'],
      ['a broken label template', { options: [{ key: '1', label: '{{ vars.', next: 'done' }] }, '/nodes/0/options/0/label', 'expression'],
      ['a broken text template', { text: 'Hi {{ 1 + }}' }, '/nodes/0/text', 'expression'],
      ['an empty text', { text: '' }, '/nodes/0/text', 'schema'],
      ['a reserved variable', { variable: '__proto__' }, '/nodes/0/variable', 'schema'],
      ['an unknown field', { next: 'done' }, '/nodes/0/next', 'schema'],
    ],
  },
  'ussd.input': {
    valid: {
      id: 'ask',
      type: 'ussd.input',
      prompt: 'Amount?',
      variable: 'amount',
      validation: { pattern: '[0-9]{1,4}', minLength: 1, maxLength: 4, expression: '$number($value) > 0' },
      errorText: 'Digits only',
      maxInvalidAttempts: 2,
      next: 'done',
      ...policies,
    },
    invalid: [
      ['a pattern that does not compile', { validation: { pattern: '([0-9]' } }, '/nodes/0/validation/pattern', 'regex'],
      ['a pattern with a lookahead (RE2 cannot run it)', { validation: { pattern: '(?=[0-9])[0-9]+' } }, '/nodes/0/validation/pattern', 'regex'],
      ['a pattern with a backreference', { validation: { pattern: '([0-9])\\1' } }, '/nodes/0/validation/pattern', 'regex'],
      ['a regular expression literal RE2 cannot run', { validation: { expression: '$contains($value, /(a)\\1/)' } }, '/nodes/0/validation/expression', 'regex'],
      ['minLength above maxLength', { validation: { minLength: 5, maxLength: 2 } }, '/nodes/0/validation/minLength', 'schema'],
      ['an empty validation', { validation: {} }, '/nodes/0/validation', 'schema'],
      ['a maxLength beyond a USSD reply', { validation: { maxLength: 183 } }, '/nodes/0/validation/maxLength', 'schema'],
      ['a broken validation expression', { validation: { expression: '$value >' } }, '/nodes/0/validation/expression', 'expression'],
      ['a variable name that is not an identifier', { variable: '1st' }, '/nodes/0/variable', 'schema'],
      ['no variable', { variable: undefined }, '/nodes/0/variable', 'schema'],
      ['no next', { next: undefined }, '/nodes/0/next', 'schema'],
      ['maxInvalidAttempts of 0', { maxInvalidAttempts: 0 }, '/nodes/0/maxInvalidAttempts', 'schema'],
    ],
  },
  'ussd.end': {
    valid: { id: 'bye', type: 'ussd.end', text: 'Goodbye {{ vars.name }}', ...policies },
    invalid: [
      ['an empty text', { text: '' }, '/nodes/0/text', 'schema'],
      ['a next (it is terminal)', { next: 'done' }, '/nodes/0/next', 'schema'],
      ['a broken template', { text: '{{' }, '/nodes/0/text', 'expression'],
    ],
  },
  'http.request': {
    valid: {
      id: 'call',
      type: 'http.request',
      method: 'POST',
      url: 'https://api.example.com/v1/items/{{ $encodeUrlComponent(vars.id) }}',
      headers: { Accept: 'application/json', 'X-Request-Id': '{{ execution.id }}' },
      body: "{ 'id': vars.id }",
      next: 'done',
      ...policies,
    },
    invalid: [
      ['an unknown method', { method: 'FETCH' }, '/nodes/0/method', 'schema'],
      ['a non-HTTP URL', { url: 'ftp://example.com' }, '/nodes/0/url', 'schema'],
      ['a broken URL placeholder', { url: 'https://x/{{ vars. }}' }, '/nodes/0/url', 'expression'],
      ['a header name with a space', { headers: { 'Bad Name': 'x' } }, '/nodes/0/headers/Bad Name', 'schema'],
      ['the same header twice', { headers: { Accept: 'a', accept: 'b' } }, '/nodes/0/headers/accept', 'duplicate-header'],
      ['a broken header template (pointer escaped)', { headers: { 'X~Y': '{{ ' } }, '/nodes/0/headers/X~0Y', 'expression'],
      ['a broken body', { body: "{ 'a': }" }, '/nodes/0/body', 'expression'],
      ['a retry rule with 11 attempts', { retry: [{ errors: ['*'], maxAttempts: 11 }] }, '/nodes/0/retry/0/maxAttempts', 'schema'],
      ['a backoff rate below 1', { retry: [{ errors: ['*'], maxAttempts: 2, backoffRate: 0.5 }] }, '/nodes/0/retry/0/backoffRate', 'schema'],
      ['an unknown jitter', { retry: [{ errors: ['*'], maxAttempts: 2, jitter: 'some' }] }, '/nodes/0/retry/0/jitter', 'schema'],
      ['a malformed error pattern', { catch: [{ errors: ['http.*.x'], next: 'done' }] }, '/nodes/0/catch/0/errors/0', 'schema'],
      ['a catch to nowhere', { catch: [{ errors: ['*'], next: 'nowhere' }] }, '/nodes/0/catch/0/next', 'unknown-node'],
      ['a timeout of 0', { timeoutMs: 0 }, '/nodes/0/timeoutMs', 'schema'],
    ],
  },
  transform: {
    valid: { id: 'calc', type: 'transform', assign: { total: 'vars.a + vars.b', label: "'n' & $string(vars.a)" }, next: 'done', ...policies },
    invalid: [
      ['no assignment', { assign: {} }, '/nodes/0/assign', 'schema'],
      ['a variable name that is not an identifier', { assign: { 'a-b': '1' } }, '/nodes/0/assign/a-b', 'schema'],
      ['a reserved variable name', { assign: { constructor: '1' } }, '/nodes/0/assign/constructor', 'schema'],
      ['a broken expression', { assign: { total: 'vars.a +' } }, '/nodes/0/assign/total', 'expression'],
      ['an empty expression', { assign: { total: '' } }, '/nodes/0/assign/total', 'schema'],
    ],
  },
  switch: {
    valid: {
      id: 'route',
      type: 'switch',
      cases: [
        { when: 'vars.amount > 1000', next: 'done' },
        { when: 'vars.amount > 10', next: 'done' },
      ],
      default: 'done',
      ...policies,
    },
    invalid: [
      ['no cases', { cases: [] }, '/nodes/0/cases', 'schema'],
      ['no default', { default: undefined }, '/nodes/0/default', 'schema'],
      ['a default to nowhere', { default: 'nowhere' }, '/nodes/0/default', 'unknown-node'],
      ['a case to nowhere', { cases: [{ when: 'true', next: 'nowhere' }] }, '/nodes/0/cases/0/next', 'unknown-node'],
      ['a broken condition', { cases: [{ when: 'vars.a = ', next: 'done' }] }, '/nodes/0/cases/0/when', 'expression'],
    ],
  },
  delay: {
    valid: { id: 'wait', type: 'delay', durationMs: 1500, next: 'done', ...policies },
    invalid: [
      ['a zero duration', { durationMs: 0 }, '/nodes/0/durationMs', 'schema'],
      ['a fractional duration', { durationMs: 1.5 }, '/nodes/0/durationMs', 'schema'],
      ['more than a day', { durationMs: 86_400_001 }, '/nodes/0/durationMs', 'schema'],
    ],
  },
  subworkflow: {
    valid: {
      id: 'child',
      type: 'subworkflow',
      workflowId: '3f1c2a9e-8d4b-4c1a-9b2e-0f6a7c5d4e3b',
      version: 2,
      input: "{ 'msisdn': session.msisdn }",
      next: 'done',
      ...policies,
    },
    invalid: [
      ['a workflow id that is not a UUID', { workflowId: 'wf-1' }, '/nodes/0/workflowId', 'schema'],
      ['version 0', { version: 0 }, '/nodes/0/version', 'schema'],
      ['a broken input', { input: '{' }, '/nodes/0/input', 'expression'],
    ],
  },
  fail: {
    valid: { id: 'oops', type: 'fail', error: 'billing.declined', message: 'declined for {{ session.msisdn }}' },
    invalid: [
      ['a malformed code', { error: '1-bad' }, '/nodes/0/error', 'schema'],
      ['a retry policy (fail takes none)', { retry: policies.retry }, '/nodes/0/retry', 'schema'],
      ['a catch policy', { catch: policies.catch }, '/nodes/0/catch', 'schema'],
      ['a broken message', { message: '{{ }}' }, '/nodes/0/message', 'expression'],
    ],
  },
  end: {
    valid: { id: 'finish', type: 'end', output: "{ 'ok': true, 'amount': vars.amount }", ...policies },
    invalid: [
      ['a broken output', { output: '(' }, '/nodes/0/output', 'expression'],
      ['a next (it is terminal)', { next: 'done' }, '/nodes/0/next', 'schema'],
    ],
  },
};

describe('node types', () => {
  it('covers every built-in type', () => {
    expect(Object.keys(cases).sort()).toEqual(NODE_TYPES.map((nodeType) => nodeType.type).sort());
  });

  describe.each(Object.entries(cases))('%s', (_type, { valid, invalid }) => {
    it('accepts a node with every optional field', () => {
      expect(errorsOf(valid)).toEqual([]);
    });

    it('accepts a node with only the required fields', () => {
      const nodeType = NODE_TYPES.find((candidate) => candidate.type === valid['type']);
      const required = new Set(['id', 'type', ...(nodeType?.schema.required ?? [])]);
      const minimal = Object.fromEntries(Object.entries(valid).filter(([field]) => required.has(field)));
      expect(errorsOf(minimal)).toEqual([]);
    });

    it.each(invalid)('refuses %s', (_name, edit, pointer, code) => {
      expect(errorsOf(JSON.parse(JSON.stringify({ ...valid, ...edit })) as Json)).toContainEqual({ pointer, code });
    });
  });
});
