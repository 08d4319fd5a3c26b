// Test-only: random valid specs for the engine's property test. workflow-domain has its own
// generator, but it is not exported (and cross-project relative imports are refused); this one
// aims at runtime behaviour instead: expressions that fail, loops, prompts, retries, timeouts.
import fc from 'fast-check';
import { validateWorkflowSpec, type WorkflowSpec } from '@ussd/workflow-domain';
import { CHILD_WORKFLOW_ID } from './engine.test-helpers.js';

type Json = Record<string, unknown>;
type IdOf = (index: number) => string;
type Draft = (id: IdOf) => Json;

export const MISSING_WORKFLOW_ID = '0b0b0b0b-0b0b-4b0b-8b0b-0b0b0b0b0b0b';

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const compact = (object: Json): Json => Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));

const expressionArb = fc.constantFrom(
  'trigger.amount',
  '$number(trigger.amount) * 2',
  'vars.count + 1',
  "trigger.msisdn & ''",
  'session.input',
  '$count(trigger.items) > 0',
  'true',
  'false',
  "$number('not a number')",
  "$error('boom')",
  '{ "a": 1, "b": [1, 2] }',
  'execution.id',
  '[1..5]',
  'vars.missing.deep',
  'nodes',
);
const templateArb = fc.constantFrom('Hi', 'Hi {{ trigger.name }}', '{{ vars.count }} items', "{{ $error('x') }}", 'Total {{ $sum(trigger.items) }}', 'You chose {{ session.input }}');
const variableArb = fc.constantFrom('count', 'amount', 'name', 'lastError');
const codesArb = fc.uniqueArray(fc.constantFrom('node.timeout', 'http.network', 'http.status.5*', 'http.*', 'expression.error', 'ussd.*', 'subworkflow.not_found', 'billing.declined'), { minLength: 1, maxLength: 3 });

/** Plain rules first, possibly one `*` rule last: the only order the validator accepts. */
const rulesArb = (rule: (errors: fc.Arbitrary<string[]>) => fc.Arbitrary<Json>) =>
  fc
    .tuple(fc.array(rule(codesArb), { maxLength: 2 }), optional(rule(fc.constant(['*']))))
    .map(([rules, last]) => (last === undefined ? rules : [...rules, last]))
    .filter((rules) => rules.length > 0);

const retryArb = rulesArb((errors) =>
  fc
    .record({
      errors,
      maxAttempts: fc.integer({ min: 1, max: 4 }),
      intervalMs: optional(fc.integer({ min: 0, max: 5_000 })),
      backoffRate: optional(fc.integer({ min: 1, max: 3 })),
      maxDelayMs: optional(fc.integer({ min: 0, max: 10_000 })),
      jitter: optional(fc.constantFrom('none', 'full', 'equal')),
    })
    .map(compact),
);
const catchArb = rulesArb((errors) => fc.record({ errors, next: fc.nat(), resultVariable: optional(variableArb) }).map(compact));
const policiesArb = fc.record({ retry: optional(retryArb), catch: optional(catchArb), timeoutMs: optional(fc.integer({ min: 1, max: 20_000 })) });

const terminalArb: fc.Arbitrary<Draft> = fc.oneof(
  fc.record({ type: fc.constant('ussd.end'), text: templateArb }),
  fc.record({ type: fc.constant('end'), output: optional(expressionArb) }),
  fc.record({ type: fc.constant('fail'), error: fc.constantFrom('billing.declined', 'airtime.invalid_amount'), message: optional(templateArb) }),
).map((fields) => () => compact(fields));

const linearArb: fc.Arbitrary<Json> = fc.oneof(
  fc.record({
    type: fc.constant('ussd.input'),
    prompt: templateArb,
    variable: variableArb,
    validation: optional(fc.record({ pattern: optional(fc.constantFrom('[0-9]+', '[a-z]{2,5}')), maxLength: optional(fc.integer({ min: 1, max: 10 })), expression: optional(fc.constantFrom('$number($value) > 10', '$length($value) < 4')) }).map(compact).filter((validation) => Object.keys(validation).length > 0)),
    errorText: optional(templateArb),
    maxInvalidAttempts: optional(fc.integer({ min: 1, max: 3 })),
  }),
  fc.record({
    type: fc.constant('http.request'),
    method: fc.constantFrom('GET', 'POST', 'HEAD'),
    url: fc.constantFrom('https://api.example.com/ok', 'https://api.example.com/{{ vars.count }}', '{{ trigger.url }}'),
    body: optional(expressionArb),
  }),
  fc.record({ type: fc.constant('transform'), assign: fc.dictionary(variableArb, expressionArb, { minKeys: 1, maxKeys: 3 }) }),
  fc.record({ type: fc.constant('delay'), durationMs: fc.constantFrom(1, 500, 5_000, 3_600_000) }),
  fc.record({ type: fc.constant('subworkflow'), workflowId: fc.constantFrom(CHILD_WORKFLOW_ID, MISSING_WORKFLOW_ID), input: optional(expressionArb) }),
).map(compact);

function branchingArb(children: readonly number[]): fc.Arbitrary<Draft> {
  return fc.record({ extra: fc.array(fc.nat(), { maxLength: 2 }), menu: fc.boolean(), whens: fc.array(expressionArb, { minLength: children.length + 2, maxLength: children.length + 2 }), text: templateArb, invalid: optional(fc.integer({ min: 1, max: 3 })) }).map(
    ({ extra, menu, whens, text, invalid }) =>
      (id: IdOf) => {
        const targets = [...children, ...extra];
        if (menu) {
          return compact({ type: 'ussd.menu', text, options: targets.map((target, index) => ({ key: String(index + 1), label: `Option ${index + 1}`, next: id(target) })), maxInvalidAttempts: invalid, variable: 'choice' });
        }
        const fallback = children.at(-1) ?? 0;
        const cases = [...children.slice(0, -1), ...extra].map((target, index) => ({ when: whens[index] ?? 'true', next: id(target) }));
        return { type: 'switch', cases: cases.length > 0 ? cases : [{ when: whens[0] ?? 'true', next: id(fallback) }], default: id(fallback) };
      },
  );
}

function nodeArb(children: readonly number[]): fc.Arbitrary<Draft> {
  const [only] = children;
  if (only === undefined) return terminalArb;
  if (children.length > 1) return branchingArb(children);
  return fc.oneof({ arbitrary: linearArb.map((fields) => (id: IdOf) => ({ ...fields, next: id(only) })), weight: 4 }, { arbitrary: branchingArb(children), weight: 1 });
}

/** Valid specs: a random tree rooted at the trigger's entry (leaves terminal) plus loops through menus, switches and catch rules. */
export function runnableSpecArbitrary(): fc.Arbitrary<WorkflowSpec> {
  return fc
    .integer({ min: 1, max: 8 })
    .chain((count) => fc.tuple(...Array.from({ length: count }, (_, index) => fc.nat({ max: Math.max(0, index - 1) }))))
    .chain((parents) => {
      const children = parents.map((): number[] => []);
      parents.forEach((parent, index) => {
        if (index > 0) children[parent]?.push(index);
      });
      return fc.record({
        nodes: fc.tuple(...children.map((targets) => fc.tuple(nodeArb(targets), fc.boolean(), policiesArb))),
        settings: fc.record({ executionTimeoutMs: fc.integer({ min: 1_000, max: 120_000 }), maxSteps: fc.integer({ min: 1, max: 40 }) }),
        variables: optional(fc.record({ count: fc.integer({ min: 0, max: 5 }) })),
      });
    })
    .map(({ nodes, settings, variables }) => {
      const id: IdOf = (index) => `n${index % nodes.length}`;
      const built = nodes.map(([draft, withPolicies, policies], index) => {
        const fields = draft(id);
        const rules = withPolicies && fields['type'] !== 'fail' ? compact({ ...policies, catch: policies.catch?.map((rule) => ({ ...rule, next: id(rule['next'] as number) })) }) : {};
        return { id: id(index), ...fields, ...rules };
      });
      const candidate = compact({
        specVersion: 1,
        settings,
        variables,
        triggers: [
          { type: 'http', entry: 'n0' },
          { type: 'ussd', serviceCode: '*384#', environments: ['default'], entry: 'n0' },
        ],
        nodes: built,
      });
      const result = validateWorkflowSpec(candidate);
      if (!result.valid) throw new Error(`generator produced an invalid spec: ${JSON.stringify(result.errors)}\n${JSON.stringify(candidate)}`);
      return result.spec;
    });
}
