import { Ajv2020 } from 'ajv/dist/2020.js';
import { defineNodeType, SCHEMA_REFS } from './node-type.js';
import { NODE_TYPES } from './node-types.js';
import { ussdClaims } from './spec.claims.js';
import { MAX_SPEC_ERRORS } from './spec-errors.js';
import { workflowSpecJsonSchema } from './spec.schema.js';
import type { WorkflowNodeBase, WorkflowSpec } from './spec.types.js';
import { createSpecValidator, validateWorkflowSpec } from './spec.validator.js';

type Json = Record<string, unknown>;

const settings = { executionTimeoutMs: 60_000, maxSteps: 100 };
const end = (id: string): Json => ({ id, type: 'end' });
const menu = (id: string, ...targets: string[]): Json => ({
  id,
  type: 'ussd.menu',
  text: 'Pick',
  options: targets.map((next, index) => ({ key: String(index + 1), label: next, next })),
});
const step = (id: string, next: string): Json => ({ id, type: 'transform', assign: { seen: 'true' }, next });

function spec(nodes: Json[], triggers: Json[] = [{ type: 'http', entry: nodes[0]?.['id'] }]): Json {
  return { specVersion: 1, settings, triggers, nodes };
}

function errorsOf(input: unknown) {
  const result = validateWorkflowSpec(input);
  return result.valid ? [] : result.errors.map(({ pointer, code }) => ({ pointer, code }));
}

describe('validateWorkflowSpec: static checks', () => {
  it('accepts menus that loop back, as long as a way out exists', () => {
    const nodes = [menu('main', 'sub', 'bye'), menu('sub', 'main', 'sub'), end('bye')];
    expect(validateWorkflowSpec(spec(nodes))).toMatchObject({ valid: true, errors: [] });
  });

  it('returns the spec as a fresh copy', () => {
    const input = spec([end('only')]);
    const result = validateWorkflowSpec(input);
    expect(result.valid && result.spec).toEqual(input);
    expect(result.valid && result.spec).not.toBe(input);
  });

  it('duplicate-node-id: points at the second id', () => {
    expect(errorsOf(spec([step('a', 'b'), end('b'), end('a')]))).toEqual([{ pointer: '/nodes/2/id', code: 'duplicate-node-id' }]);
  });

  it('unknown-node: points at the edge, whichever field holds it', () => {
    const nodes = [
      menu('main', 'b', 'nowhere'),
      { ...step('b', 'c'), catch: [{ errors: ['*'], next: 'ghost' }] },
      { id: 'c', type: 'switch', cases: [{ when: 'true', next: 'missing' }], default: 'd' },
      end('d'),
    ];
    expect(errorsOf(spec(nodes))).toEqual([
      { pointer: '/nodes/0/options/1/next', code: 'unknown-node' },
      { pointer: '/nodes/1/catch/0/next', code: 'unknown-node' },
      { pointer: '/nodes/2/cases/0/next', code: 'unknown-node' },
    ]);
  });

  it('entry: a trigger entry that names no node', () => {
    expect(errorsOf(spec([end('a')], [{ type: 'http', entry: 'b' }]))).toEqual([{ pointer: '/triggers/0/entry', code: 'entry' }]);
  });

  it('entry: two http triggers would give an API call two entry nodes', () => {
    const triggers = [{ type: 'http', entry: 'a' }, { type: 'http', entry: 'b' }];
    expect(errorsOf(spec([end('a'), end('b')], triggers))).toEqual([{ pointer: '/triggers/1', code: 'entry' }]);
  });

  it('entry: exactly one entry per trigger is enforced by the schema', () => {
    expect(errorsOf(spec([end('a')], [{ type: 'http' }]))).toEqual([{ pointer: '/triggers/0/entry', code: 'schema' }]);
    expect(errorsOf(spec([end('a')], [{ type: 'http', entry: ['a', 'a'] }]))).toEqual([{ pointer: '/triggers/0/entry', code: 'schema' }]);
  });

  it('duplicate-ussd-claim: the same code and environment twice; other environments or codes are fine', () => {
    const triggers = [
      { type: 'ussd', serviceCode: '*384*1#', environments: ['production'], entry: 'a' },
      { type: 'ussd', serviceCode: '*384*1#', environments: ['staging', 'production'], entry: 'b' },
      { type: 'ussd', serviceCode: '*384*2#', environments: ['production'], entry: 'b' },
    ];
    expect(errorsOf(spec([end('a'), end('b')], triggers))).toEqual([{ pointer: '/triggers/1/environments/1', code: 'duplicate-ussd-claim' }]);
  });

  it('unreachable: nodes no trigger leads to, including islands with their own loop', () => {
    const nodes = [step('a', 'b'), end('b'), step('island', 'loop'), step('loop', 'island'), end('orphan')];
    expect(errorsOf(spec(nodes))).toEqual([
      { pointer: '/nodes/2', code: 'unreachable' },
      { pointer: '/nodes/3', code: 'unreachable' },
      { pointer: '/nodes/4', code: 'unreachable' },
    ]);
  });

  it('no-path-to-end: a reachable loop with no way out', () => {
    const nodes = [menu('main', 'bye', 'trap'), step('trap', 'spin'), step('spin', 'trap'), end('bye')];
    expect(errorsOf(spec(nodes))).toEqual([
      { pointer: '/nodes/1', code: 'no-path-to-end' },
      { pointer: '/nodes/2', code: 'no-path-to-end' },
    ]);
  });

  it('no-path-to-end: a catch edge counts as a way out', () => {
    const nodes = [{ ...step('spin', 'spin'), catch: [{ errors: ['*'], next: 'bye' }] }, end('bye')];
    expect(errorsOf(spec(nodes))).toEqual([]);
  });

  it('reports a broken reference once, not as a cascade of unreachable nodes', () => {
    const nodes = [step('a', 'typo'), step('b', 'c'), end('c')];
    expect(errorsOf(spec(nodes))).toEqual([{ pointer: '/nodes/0/next', code: 'unknown-node' }]);
  });

  it('expression: points at the field, with the parser message', () => {
    const result = validateWorkflowSpec(spec([{ ...step('a', 'b'), assign: { total: 'vars.a +' } }, end('b')]));
    expect(result.errors).toEqual([{ pointer: '/nodes/0/assign/total', code: 'expression', message: expect.stringMatching(/Unexpected end/) }]);
  });

  it('regex: a regular expression literal the linear-time engine cannot run, in the one error shape', () => {
    const result = validateWorkflowSpec(spec([{ ...step('a', 'b'), assign: { ok: "$match(vars.a, /(?<=x)y/)" } }, end('b')]));
    expect(result.errors).toEqual([{ pointer: '/nodes/0/assign/ok', code: 'regex', message: expect.stringMatching(/not supported by the linear-time \(RE2\) engine/) }]);
  });

  it('regex: a pattern that only backtracks catastrophically in JavaScript is accepted, since RE2 runs it in linear time', () => {
    const result = validateWorkflowSpec(spec([{ ...step('a', 'b'), assign: { ok: '$contains(vars.a, /^(a+)+$/)' } }, end('b')]));
    expect(result.errors).toEqual([]);
  });

  it('policy: a rule after a catch-all can never apply', () => {
    const node = {
      ...step('a', 'b'),
      retry: [{ errors: ['*'], maxAttempts: 2 }, { errors: ['node.timeout'], maxAttempts: 3 }],
      catch: [{ errors: ['http.*', '*'], next: 'b' }, { errors: ['x'], next: 'b' }],
    };
    expect(errorsOf(spec([node, end('b')]))).toEqual([
      { pointer: '/nodes/0/retry/1', code: 'policy' },
      { pointer: '/nodes/0/catch/1', code: 'policy' },
    ]);
  });
});

describe('validateWorkflowSpec: schema errors', () => {
  it('names the missing or unknown field in the pointer', () => {
    expect(errorsOf({ specVersion: 1, settings: { maxSteps: 10, extra: true }, triggers: [{ type: 'http', entry: 'a' }], nodes: [end('a')] })).toEqual([
      { pointer: '/settings/executionTimeoutMs', code: 'schema' },
      { pointer: '/settings/extra', code: 'schema' },
    ]);
  });

  it('reports only the matching type branch for a node', () => {
    const result = validateWorkflowSpec(spec([{ id: 'a', type: 'delay', durationMs: -1, next: 'b' }, end('b')]));
    expect(result.errors).toEqual([{ pointer: '/nodes/0/durationMs', code: 'schema', message: 'must be >= 1' }]);
  });

  it('lists the known types for an unknown one', () => {
    const result = validateWorkflowSpec(spec([{ id: 'a', type: 'sms.send' }]));
    expect(result.errors).toEqual([{ pointer: '/nodes/0/type', code: 'schema', message: expect.stringContaining('"ussd.menu"') }]);
  });

  it.each([
    ['the wrong specVersion', { ...spec([end('a')]), specVersion: 2 }, '/specVersion'],
    ['no nodes', spec([], [{ type: 'http', entry: 'a' }]), '/nodes'],
    ['no triggers', spec([end('a')], []), '/triggers'],
    ['a bad service code', spec([end('a')], [{ type: 'ussd', serviceCode: '384#', environments: ['production'], entry: 'a' }]), '/triggers/0/serviceCode'],
    ['a repeated environment', spec([end('a')], [{ type: 'ussd', serviceCode: '*1#', environments: ['qa', 'qa'], entry: 'a' }]), '/triggers/0/environments'],
    ['maxSteps above 10,000', { ...spec([end('a')]), settings: { ...settings, maxSteps: 10_001 } }, '/settings/maxSteps'],
    ['a node id with a space', spec([end('a b')]), '/nodes/0/id'],
    ['501 nodes', spec(Array.from({ length: 501 }, (_, i) => end(`n${i}`))), '/nodes'],
    ['a reserved variable name', { ...spec([end('a')]), variables: { prototype: 1 } }, '/variables/prototype'],
    ['an array at the root', [], ''],
  ])('refuses %s', (_name, input, pointer) => {
    expect(errorsOf(input)).toContainEqual({ pointer, code: 'schema' });
  });

  it(`returns at most ${MAX_SPEC_ERRORS} errors and says how many it left out`, () => {
    // 300 bad node ids, and the trigger's entry is one of them: 301 errors, 99 shown.
    const result = validateWorkflowSpec(spec(Array.from({ length: 300 }, (_, i) => ({ id: `bad id ${i}`, type: 'end' }))));
    expect(result.errors).toHaveLength(MAX_SPEC_ERRORS);
    expect(result.errors.at(-1)).toEqual({ pointer: '', code: 'too-many-errors', message: '202 more errors not shown (at most 100 are returned)' });
  });
});

describe('validateWorkflowSpec: input that is not plain JSON', () => {
  class Custom {
    readonly id = 'a';
  }
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const holey: unknown[] = [];
  holey[1] = end('a');
  const cyclic: Json = spec([end('a')]);
  cyclic['self'] = cyclic;
  const deep: Json = {};
  let cursor = deep;
  for (let depth = 0; depth < 10_000; depth += 1) cursor = cursor['x'] = {};

  it.each([
    ['undefined', undefined, '', 'not-json'],
    ['a function', { specVersion: () => 1 }, '/specVersion', 'not-json'],
    ['NaN', { specVersion: Number.NaN }, '/specVersion', 'not-json'],
    ['a bigint', { specVersion: 1n }, '/specVersion', 'not-json'],
    ['a symbol', { specVersion: Symbol('x') }, '/specVersion', 'not-json'],
    ['a Date', { settings: new Date() }, '/settings', 'not-json'],
    ['a Map', { settings: new Map() }, '/settings', 'not-json'],
    ['a class instance', { nodes: [new Custom()] }, '/nodes/0', 'not-json'],
    ['a boxed number', { specVersion: Object(1) as unknown }, '/specVersion', 'not-json'],
    ['an array hole', { nodes: holey }, '/nodes/0', 'not-json'],
    ['a cycle', cyclic, '/self', 'not-json'],
    ['a getter that throws', Object.defineProperty({}, 'nodes', { enumerable: true, get: () => { throw new Error('boom'); } }), '/nodes', 'not-json'],
    ['a revoked proxy', { settings: revoked.proxy }, '/settings', 'not-json'],
    ['__proto__ as an own key', JSON.parse('{"specVersion":1,"variables":{"__proto__":{"polluted":true}}}'), '/variables/__proto__', 'forbidden-key'],
    ['10,000 levels of nesting', deep, '/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x/x', 'limit'],
    ['a 200,000-item array', { nodes: new Array(200_000).fill(0) }, '/nodes', 'limit'],
    ['a megabyte string', { specVersion: 'x'.repeat(1_000_000) }, '/specVersion', 'limit'],
  ])('refuses %s without throwing', (_name, input, pointer, code) => {
    expect(errorsOf(input)).toContainEqual({ pointer, code });
  });

  it('never lets a __proto__ key reach the prototype', () => {
    validateWorkflowSpec(JSON.parse('{"__proto__":{"polluted":true},"nodes":[{"__proto__":{"polluted":true}}]}'));
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('accepts objects without a prototype', () => {
    const input = Object.assign(Object.create(null) as Json, spec([end('a')]));
    expect(validateWorkflowSpec(input).valid).toBe(true);
  });
});

describe('custom node types', () => {
  // The example from docs/workflow-spec.md, "Adding a node type".
  interface SmsSendNode extends WorkflowNodeBase {
    readonly type: 'sms.send';
    readonly to: string;
    readonly text: string;
    readonly next: string;
  }
  const smsSendNodeType = defineNodeType<SmsSendNode>({
    type: 'sms.send',
    description: 'Sends an SMS.',
    schema: { required: ['to', 'text', 'next'], properties: { to: SCHEMA_REFS.template, text: SCHEMA_REFS.template, next: SCHEMA_REFS.nodeId } },
    terminal: false,
    successors: (node) => [{ pointer: '/next', target: node.next }],
    expressions: (node) => [
      { pointer: '/to', source: node.to, kind: 'template' },
      { pointer: '/text', source: node.text, kind: 'template' },
    ],
  });
  const nodeTypes = [...NODE_TYPES, smsSendNodeType];
  const sms = { id: 'sms', type: 'sms.send', to: '{{ session.msisdn }}', text: 'Thanks', next: 'bye' };

  it('is one definition added to the list: schema, graph and expression checks follow', () => {
    const validator = createSpecValidator(nodeTypes);
    expect(validator.validate(spec([sms, end('bye')])).valid).toBe(true);
    expect(validateWorkflowSpec(spec([sms, end('bye')]), nodeTypes).valid).toBe(true);
    expect(validator.validate(spec([{ ...sms, text: '{{' }, end('bye')])).errors).toMatchObject([{ pointer: '/nodes/0/text', code: 'expression' }]);
    expect(validator.validate(spec([{ ...sms, next: 'nope' }, end('bye')])).errors).toMatchObject([{ pointer: '/nodes/0/next', code: 'unknown-node' }]);
    expect(validator.validate(spec([{ ...sms, extra: 1 }, end('bye')])).errors).toMatchObject([{ pointer: '/nodes/0/extra', code: 'schema' }]);
    expect(validateWorkflowSpec(spec([sms, end('bye')])).valid).toBe(false);
  });

  it('appears in the published schema', () => {
    const schema = workflowSpecJsonSchema(nodeTypes) as { $defs: Record<string, unknown> };
    expect(schema.$defs['node:sms.send']).toMatchObject({ required: ['id', 'type', 'to', 'text', 'next'] });
  });

  it("reports a custom check's issues under the node's pointer, and a custom type's failure as internal", () => {
    const checked = defineNodeType<SmsSendNode>({ ...smsSendNodeType, check: () => [{ pointer: '/to', code: 'sms.to', message: 'bad' }] });
    expect(createSpecValidator([...NODE_TYPES, checked]).validate(spec([sms, end('bye')])).errors).toEqual([{ pointer: '/nodes/0/to', code: 'sms.to', message: 'bad' }]);
    const broken = defineNodeType<SmsSendNode>({ ...smsSendNodeType, successors: () => { throw new Error('bug'); } });
    expect(createSpecValidator([...NODE_TYPES, broken]).validate(spec([sms, end('bye')])).errors).toMatchObject([{ pointer: '', code: 'internal' }]);
  });

  it('refuses a faulty registry when the validator is created', () => {
    expect(() => createSpecValidator([...NODE_TYPES, NODE_TYPES[0]!])).toThrow(/registered twice/);
    expect(() => createSpecValidator([{ ...smsSendNodeType, type: 'SMS send' }])).toThrow(/must match/);
  });
});

describe('workflowSpecJsonSchema', () => {
  it('is a draft 2020-12 schema that a third party can compile', () => {
    const schema = workflowSpecJsonSchema();
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    const validate = new Ajv2020({ strict: true }).compile(schema);
    expect(validate(spec([end('a')]))).toBe(true);
    expect(validate(spec([{ id: 'a', type: 'end', next: 'b' }]))).toBe(false);
  });

  it('returns a fresh object every time', () => {
    const first = workflowSpecJsonSchema() as { properties: Record<string, unknown> };
    delete first.properties['nodes'];
    expect(workflowSpecJsonSchema()['properties']).toHaveProperty('nodes');
  });
});

describe('ussdClaims', () => {
  it('lists each service code and environment pair once, sorted', () => {
    const value = {
      triggers: [
        { type: 'ussd', serviceCode: '*384*2#', environments: ['staging', 'production'], entry: 'a' },
        { type: 'http', entry: 'a' },
        { type: 'ussd', serviceCode: '*384*1#', environments: ['production'], entry: 'a' },
      ],
    } as unknown as WorkflowSpec;
    expect(ussdClaims(value)).toEqual([
      { serviceCode: '*384*1#', environment: 'production' },
      { serviceCode: '*384*2#', environment: 'production' },
      { serviceCode: '*384*2#', environment: 'staging' },
    ]);
  });
});
