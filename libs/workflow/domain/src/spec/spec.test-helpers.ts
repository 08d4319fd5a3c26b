// Test-only (fast-check is a devDependency): excluded from the build, imported by tests.
import fc from 'fast-check';
import type { JsonValue, WorkflowSpec } from './spec.types.js';

type Json = Record<string, unknown>;
/** Resolves a node index to its id, modulo the node count, so any natural number is an edge. */
type IdOf = (index: number) => string;
/** A node (or part) whose edges are still indexes; resolved once the ids exist. */
type Draft<T = Json> = (id: IdOf) => T;

const MAX_NODES = 16;
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** Drops undefined fields, which JSON cannot carry. */
function compact(object: Json): Json {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

const nodeIdArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,11}$/);
const variableArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/).filter((name) => !RESERVED.has(name));
const optionKeyArb = fc.stringMatching(/^[0-9*#]{1,4}$/);
const headerNameArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/);
const errorCodeArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,15}$/);
const serviceCodeArb = fc.stringMatching(/^\*[0-9]{1,4}(\*[0-9]{1,4}){0,2}#$/);
const expressionArb = fc.constantFrom(
  'vars.amount',
  '$number(vars.amount) * 2',
  "trigger.msisdn & ''",
  'nodes.lookup.body.status = 200',
  'session = null',
  '$count(vars.items) > 0',
  'true',
  '{ "a": 1, "b": [1, 2] }',
  '$string(execution.id)',
  'nodes.`some-node`.value',
  "$formatNumber(vars.balance, '#,##0.00')",
  'vars.items[price > 10].name',
);
/** Text without braces, so the only placeholders are the ones added here. */
const plainTextArb = fc.string({ minLength: 1, maxLength: 30 }).map((text) => text.replace(/[{}]/g, '|'));
const templateArb = fc
  .array(fc.oneof(plainTextArb, expressionArb.map((source) => `{{ ${source} }}`)), { minLength: 1, maxLength: 3 })
  .map((parts) => parts.join(''));
const errorPatternArb = fc.constantFrom('node.timeout', 'http.network', 'http.status.5*', 'http.status.429', 'http.*', 'expression.error', 'billing.declined');
/** JSON values without `__proto__` keys, which the validator refuses on purpose. */
const safeJsonArb = fc.jsonValue({ maxDepth: 2 }).filter((value) => !JSON.stringify(value).includes('"__proto__"')) as fc.Arbitrary<JsonValue>;

/** Rules without `*`, then possibly one catch-all last: the only order the validator accepts. */
function rulesArb(ruleArb: (errors: fc.Arbitrary<string[]>) => fc.Arbitrary<Json>): fc.Arbitrary<Json[]> {
  return fc
    .tuple(fc.array(ruleArb(fc.uniqueArray(errorPatternArb, { minLength: 1, maxLength: 3 })), { maxLength: 2 }), optional(ruleArb(fc.constant(['*']))))
    .map(([rules, last]) => (last === undefined ? rules : [...rules, last]))
    .filter((rules) => rules.length > 0);
}

const retryArb = rulesArb((errors) =>
  fc
    .record({
      errors,
      maxAttempts: fc.integer({ min: 1, max: 10 }),
      intervalMs: optional(fc.integer({ min: 0, max: 3_600_000 })),
      backoffRate: optional(fc.double({ min: 1, max: 10, noNaN: true })),
      maxDelayMs: optional(fc.integer({ min: 0, max: 3_600_000 })),
      jitter: optional(fc.constantFrom('none', 'full', 'equal')),
    })
    .map(compact),
);
const catchArb = rulesArb((errors) => fc.record({ errors, next: fc.nat(), resultVariable: optional(variableArb) }).map(compact));

const policiesArb: fc.Arbitrary<Draft> = fc
  .record({ retry: optional(retryArb), timeoutMs: optional(fc.integer({ min: 1, max: 86_400_000 })), catch: optional(catchArb) })
  .map(({ retry, timeoutMs, catch: rules }) => (id: IdOf) =>
    compact({ retry, timeoutMs, catch: rules?.map((rule) => ({ ...rule, next: id(rule['next'] as number) })) }),
  );

const validationArb = fc
  .record({
    pattern: optional(fc.constantFrom('[0-9]{2,4}', '\\d+', '[A-Za-z ]{1,20}', '\\p{L}+')),
    lengths: optional(fc.tuple(fc.integer({ min: 0, max: 182 }), fc.integer({ min: 1, max: 182 }))),
    expression: optional(fc.constantFrom('$number($value) > 0', '$length($value) < 10', '$value in ["1", "2"]')),
  })
  .map(({ lengths, ...rest }) => compact({ ...rest, minLength: lengths && Math.min(...lengths), maxLength: lengths && Math.max(1, ...lengths) }))
  .filter((validation) => Object.keys(validation).length > 0);

const headersArb = fc
  .uniqueArray(fc.tuple(headerNameArb, templateArb), { maxLength: 3, selector: ([name]) => name.toLowerCase() })
  .map((entries) => Object.fromEntries(entries));

/** The fields of node types with exactly one successor, `next` left out. */
const linearFieldsArb: fc.Arbitrary<Json> = fc
  .oneof(
    fc.record({
      type: fc.constant('ussd.input'),
      prompt: templateArb,
      variable: variableArb,
      validation: optional(validationArb),
      errorText: optional(templateArb),
      maxInvalidAttempts: optional(fc.integer({ min: 1, max: 10 })),
    }),
    fc.record({
      type: fc.constant('http.request'),
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'),
      url: fc.oneof(
        fc.webUrl({ validSchemes: ['https', 'http'] }),
        fc.webUrl().map((url) => `${url}/{{ $encodeUrlComponent(vars.id) }}`),
        fc.constant('{{ vars.baseUrl }}/v1/items'),
      ),
      headers: optional(headersArb),
      body: optional(expressionArb),
    }),
    fc.record({ type: fc.constant('transform'), assign: fc.dictionary(variableArb, expressionArb, { minKeys: 1, maxKeys: 4 }) }),
    fc.record({ type: fc.constant('delay'), durationMs: fc.integer({ min: 1, max: 86_400_000 }) }),
    fc.record({
      type: fc.constant('subworkflow'),
      workflowId: fc.uuid(),
      version: optional(fc.integer({ min: 1, max: 999_999_999 })),
      input: optional(expressionArb),
    }),
  )
  .map(compact);

const terminalArb: fc.Arbitrary<Json> = fc
  .oneof(
    fc.record({ type: fc.constant('ussd.end'), text: templateArb }),
    fc.record({ type: fc.constant('end'), output: optional(expressionArb) }),
    fc.record({ type: fc.constant('fail'), error: errorCodeArb, message: optional(templateArb) }),
  )
  .map(compact);

/** Menus reach their tree children plus up to two extra targets anywhere (loops, "back"). */
function menuArb(children: readonly number[]): fc.Arbitrary<Draft> {
  const extra = fc.array(fc.nat(), { maxLength: Math.min(2, 20 - children.length) });
  return extra.chain((more) => {
    const targets = [...children, ...more];
    const options = fc.uniqueArray(fc.tuple(optionKeyArb, templateArb), { minLength: targets.length, maxLength: targets.length, selector: ([key]) => key });
    return fc
      .record({ text: templateArb, options, invalidText: optional(templateArb), maxInvalidAttempts: optional(fc.integer({ min: 1, max: 10 })), variable: optional(variableArb) })
      .map(({ options: pairs, ...fields }) => (id: IdOf) =>
        compact({ type: 'ussd.menu', ...fields, options: pairs.map(([key, label], index) => ({ key, label, next: id(targets[index] ?? 0) })) }),
      );
  });
}

/** The last child is the default; the others, plus extras, are cases (at least one). */
function switchArb(children: readonly number[]): fc.Arbitrary<Draft> {
  const fallback = children.at(-1) ?? 0;
  const branches = children.slice(0, -1);
  return fc
    .array(fc.tuple(fc.nat(), expressionArb), { minLength: branches.length === 0 ? 1 : 0, maxLength: 2 })
    .chain((more) => fc.array(expressionArb, { minLength: branches.length, maxLength: branches.length }).map((whens) => ({ more, whens })))
    .map(({ more, whens }) => (id: IdOf) => ({
      type: 'switch',
      cases: [...branches.map((target, index) => ({ when: whens[index], next: id(target) })), ...more.map(([target, when]) => ({ when, next: id(target) }))],
      default: id(fallback),
    }));
}

function nodeArb(children: readonly number[]): fc.Arbitrary<Draft> {
  const [only] = children;
  if (only === undefined) return terminalArb.map((fields) => () => fields);
  const branching = children.length > 20 ? [switchArb(children)] : [menuArb(children), switchArb(children)];
  if (children.length > 1) return fc.oneof(...branching);
  const linear = linearFieldsArb.map((fields) => (id: IdOf) => ({ ...fields, next: id(only) }));
  return fc.oneof({ arbitrary: linear, weight: 5 }, ...branching.map((arbitrary) => ({ arbitrary, weight: 1 })));
}

/** The first trigger enters the root of the spanning tree; the others enter anywhere. */
const triggersArb: fc.Arbitrary<Draft<Json[]>> = fc
  .record({
    httpFirst: fc.boolean(),
    httpLast: fc.boolean(),
    ussd: fc.uniqueArray(
      fc.record({ serviceCode: serviceCodeArb, environments: fc.uniqueArray(fc.constantFrom('production', 'staging', 'dev', 'qa-1'), { minLength: 1, maxLength: 3 }), entry: fc.nat() }),
      { minLength: 1, maxLength: 3, selector: (trigger) => trigger.serviceCode },
    ),
    lastEntry: fc.nat(),
  })
  .map(({ httpFirst, httpLast, ussd, lastEntry }) => (id: IdOf) => {
    const ussdTriggers = ussd.map((trigger, index) => ({ type: 'ussd', ...trigger, entry: id(index === 0 && !httpFirst ? 0 : trigger.entry) }));
    if (httpFirst) return [{ type: 'http', entry: id(0) }, ...ussdTriggers];
    return httpLast ? [...ussdTriggers, { type: 'http', entry: id(lastEntry) }] : ussdTriggers;
  });

const nodeExtrasArb = fc.record({ withPolicies: fc.boolean(), policies: policiesArb, name: optional(fc.string({ maxLength: 20 })) });

/**
 * Valid workflow specs: a random spanning tree (every node reachable from the first trigger's
 * entry, every leaf a terminal node) plus random extra edges (menu options, switch cases, catch
 * rules) that add loops without breaking either property, in shuffled order.
 */
export function validSpecArbitrary(): fc.Arbitrary<WorkflowSpec> {
  return fc
    .integer({ min: 1, max: MAX_NODES })
    // Half the nodes hang off their predecessor, so chains are as common as fans.
    .chain((count) => fc.tuple(...Array.from({ length: count }, (_, index) => fc.oneof(fc.constant(Math.max(0, index - 1)), fc.nat({ max: Math.max(0, index - 1) })))))
    .chain((parents) => {
      const count = parents.length;
      const children = parents.map((): number[] => []);
      parents.forEach((parent, index) => {
        if (index > 0) children[parent]?.push(index);
      });
      return fc.record({
        ids: fc.uniqueArray(nodeIdArb, { minLength: count, maxLength: count }),
        nodes: fc.tuple(...children.map((targets) => fc.tuple(nodeArb(targets), nodeExtrasArb))),
        triggers: triggersArb,
        order: fc.shuffledSubarray(parents.map((_, index) => index), { minLength: count, maxLength: count }),
        settings: fc.record({ executionTimeoutMs: fc.integer({ min: 1000, max: 86_400_000 }), maxSteps: fc.integer({ min: 1, max: 10_000 }) }),
        variables: optional(fc.dictionary(variableArb, safeJsonArb, { maxKeys: 5 })),
      });
    })
    .map(({ ids, nodes, triggers, order, settings, variables }) => {
      const id: IdOf = (index) => ids[index % ids.length] ?? '';
      const built = nodes.map(([draft, { withPolicies, policies, name }], index) => {
        const node: Json = { id: id(index), ...draft(id) };
        return compact({ ...node, name, ...(withPolicies && node['type'] !== 'fail' ? policies(id) : {}) });
      });
      const spec = compact({ specVersion: 1, settings, variables, triggers: triggers(id), nodes: order.map((index) => built[index]) });
      return spec as unknown as WorkflowSpec;
    });
}
