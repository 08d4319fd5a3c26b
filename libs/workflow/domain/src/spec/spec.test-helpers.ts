// Test-only (fast-check is a devDependency): excluded from the build, imported by tests.
import fc from 'fast-check';
import type { JsonValue, WorkflowSpec } from './spec.types.js';

type Json = Record<string, unknown>;
/** A node whose edges are still indexes; `build` resolves them to ids once ids exist. */
type NodeDraft = (id: (index: number) => string) => Json;

const MAX_NODES = 16;
const RESERVED = new Set(['__proto__', 'constructor', 'prototype']);

const nodeIdArb = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,11}$/);
const variableArb = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,11}$/).filter((name) => !RESERVED.has(name));
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
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

/** Drops undefined fields, which JSON cannot carry. */
function compact(object: Json): Json {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

/** Rules without `*`, then possibly one catch-all last: the only order the validator accepts. */
function rulesArb<T extends Json>(ruleArb: (errors: fc.Arbitrary<string[]>) => fc.Arbitrary<T>): fc.Arbitrary<T[]> {
  const specific = fc.uniqueArray(errorPatternArb, { minLength: 1, maxLength: 3 });
  return fc
    .tuple(fc.array(ruleArb(specific), { minLength: 0, maxLength: 2 }), optional(ruleArb(fc.constant(['*']))))
    .map(([rules, last]) => (last === undefined ? rules : [...rules, last]))
    .filter((rules) => rules.length > 0);
}

function policiesArb(nodeCount: number): fc.Arbitrary<(id: (index: number) => string) => Json> {
  const retry = rulesArb((errors) =>
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
  const caught = rulesArb((errors) =>
    fc.record({ errors, next: fc.nat({ max: nodeCount - 1 }), resultVariable: optional(variableArb) }).map(compact),
  );
  return fc
    .record({ retry: optional(retry), timeoutMs: optional(fc.integer({ min: 1, max: 86_400_000 })), catch: optional(caught) })
    .map(({ retry: retryRules, timeoutMs, catch: catchRules }) => (id) =>
      compact({ retry: retryRules, timeoutMs, catch: catchRules?.map((rule) => ({ ...rule, next: id(rule.next as number) })) }),
    );
}

function menuArb(targets: readonly number[], nodeCount: number): fc.Arbitrary<NodeDraft> {
  const extraCount = Math.min(2, 20 - targets.length);
  return fc.array(fc.nat({ max: nodeCount - 1 }), { maxLength: extraCount }).chain((extra) => {
    const all = [...targets, ...extra];
    return fc
      .record({
        text: templateArb,
        keys: fc.uniqueArray(fc.stringMatching(/^[0-9*#]{1,4}$/), { minLength: all.length, maxLength: all.length }),
        labels: fc.array(templateArb, { minLength: all.length, maxLength: all.length }),
        invalidText: optional(templateArb),
        maxInvalidAttempts: optional(fc.integer({ min: 1, max: 10 })),
        variable: optional(variableArb),
      })
      .map(({ keys, labels, ...fields }) => (id: (index: number) => string) =>
        compact({
          type: 'ussd.menu',
          ...fields,
          options: all.map((target, index) => ({ key: keys[index], label: labels[index], next: id(target) })),
        }),
      );
  });
}

function switchArb(targets: readonly number[], nodeCount: number): fc.Arbitrary<NodeDraft> {
  const [fallback, ...branches] = targets;
  return fc
    .array(fc.nat({ max: nodeCount - 1 }), { minLength: branches.length === 0 ? 1 : 0, maxLength: 2 })
    .chain((extra) => fc.array(expressionArb, { minLength: branches.length + extra.length, maxLength: branches.length + extra.length }).map((whens) => ({ extra, whens })))
    .map(({ extra, whens }) => (id: (index: number) => string) => ({
      type: 'switch',
      cases: [...branches, ...extra].map((target, index) => ({ when: whens[index], next: id(target) })),
      default: id(fallback ?? 0),
    }));
}

/** Node types with one successor, as drafts. */
function linearArb(next: number): fc.Arbitrary<NodeDraft> {
  const withNext = (arb: fc.Arbitrary<Json>) => arb.map((fields) => (id: (index: number) => string) => compact({ ...fields, next: id(next) }));
  const validation = fc
    .record({
      pattern: optional(fc.constantFrom('[0-9]{2,4}', '\\d+', '[A-Za-z ]{1,20}', '\\p{L}+')),
      lengths: optional(fc.tuple(fc.integer({ min: 0, max: 182 }), fc.integer({ min: 1, max: 182 }))),
      expression: optional(fc.constantFrom('$number($value) > 0', '$length($value) < 10', '$value in ["1", "2"]')),
    })
    .map(({ lengths, ...rest }) =>
      compact({ ...rest, minLength: lengths && Math.min(...lengths), maxLength: lengths && Math.max(1, ...lengths) }),
    )
    .filter((validation) => Object.keys(validation).length > 0);
  const headerNames = fc.uniqueArray(fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,15}$/), { maxLength: 3, selector: (name) => name.toLowerCase() });
  return fc.oneof(
    withNext(
      fc.record({
        type: fc.constant('ussd.input'),
        prompt: templateArb,
        variable: variableArb,
        validation: optional(validation),
        errorText: optional(templateArb),
        maxInvalidAttempts: optional(fc.integer({ min: 1, max: 10 })),
      }),
    ),
    withNext(
      fc.record({
        type: fc.constant('http.request'),
        method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'),
        url: fc.oneof(
          fc.webUrl({ validSchemes: ['https', 'http'] }),
          fc.webUrl().map((url) => `${url}/{{ $encodeUrlComponent(vars.id) }}`),
          fc.constant('{{ vars.baseUrl }}/v1/items'),
        ),
        headers: optional(headerNames.chain((names) => fc.array(templateArb, { minLength: names.length, maxLength: names.length }).map((values) => Object.fromEntries(names.map((name, index) => [name, values[index]]))))),
        body: optional(expressionArb),
      }),
    ),
    withNext(
      fc.record({
        type: fc.constant('transform'),
        assign: fc.dictionary(variableArb, expressionArb, { minKeys: 1, maxKeys: 4 }),
      }),
    ),
    withNext(fc.record({ type: fc.constant('delay'), durationMs: fc.integer({ min: 1, max: 86_400_000 }) })),
    withNext(
      fc.record({
        type: fc.constant('subworkflow'),
        workflowId: fc.uuid(),
        version: optional(fc.integer({ min: 1, max: 999_999_999 })),
        input: optional(expressionArb),
      }),
    ),
  );
}

const terminalArb: fc.Arbitrary<NodeDraft> = fc
  .oneof(
    fc.record({ type: fc.constant('ussd.end'), text: templateArb }),
    fc.record({ type: fc.constant('end'), output: optional(expressionArb) }),
    fc.record({ type: fc.constant('fail'), error: fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.-]{0,15}$/), message: optional(templateArb) }),
  )
  .map((fields) => () => compact(fields));

function nodeArb(children: readonly number[], nodeCount: number): fc.Arbitrary<NodeDraft> {
  const [only] = children;
  if (only === undefined) return terminalArb;
  const branching = children.length > 20 ? [switchArb(children, nodeCount)] : [menuArb(children, nodeCount), switchArb(children, nodeCount)];
  return children.length === 1 ? fc.oneof(linearArb(only), ...branching) : fc.oneof(...branching);
}

function triggersArb(nodeCount: number): fc.Arbitrary<(id: (index: number) => string) => Json[]> {
  const environments = fc.uniqueArray(fc.constantFrom('production', 'staging', 'dev', 'qa-1'), { minLength: 1, maxLength: 3 });
  return fc
    .record({
      firstIsHttp: fc.boolean(),
      extraHttp: fc.boolean(),
      codes: fc.uniqueArray(fc.stringMatching(/^\*[0-9]{1,4}(\*[0-9]{1,4}){0,2}#$/), { minLength: 1, maxLength: 3 }),
      environments: fc.array(environments, { minLength: 3, maxLength: 3 }),
      entries: fc.array(fc.nat({ max: nodeCount - 1 }), { minLength: 4, maxLength: 4 }),
    })
    .map(({ firstIsHttp, extraHttp, codes, environments: envs, entries }) => (id) => {
      // The first trigger enters the root of the spanning tree, so every node is reachable.
      const ussd = codes.map((serviceCode, index) => ({ type: 'ussd', serviceCode, environments: envs[index], entry: id(index === 0 && !firstIsHttp ? 0 : (entries[index] ?? 0)) }));
      if (firstIsHttp) return [{ type: 'http', entry: id(0) }, ...ussd];
      return extraHttp ? [...ussd, { type: 'http', entry: id(entries[3] ?? 0) }] : ussd;
    });
}

/**
 * Valid workflow specs: a random spanning tree (every node reachable from the first trigger's
 * entry, every leaf a terminal node) plus random extra edges (menu options, switch cases, catch
 * rules) that add loops without breaking either property, then shuffled.
 */
export function validSpecArbitrary(): fc.Arbitrary<WorkflowSpec> {
  return fc
    .integer({ min: 1, max: MAX_NODES })
    .chain((nodeCount) =>
      fc.tuple(fc.constant(nodeCount), fc.tuple(...Array.from({ length: nodeCount }, (_, index) => fc.nat({ max: Math.max(0, index - 1) })))),
    )
    .chain(([nodeCount, parents]) => {
      const children = Array.from({ length: nodeCount }, (): number[] => []);
      parents.forEach((parent, index) => {
        if (index > 0) children[parent]?.push(index);
      });
      const drafts = children.map((targets, index) =>
        fc.tuple(nodeArb(targets, nodeCount), fc.boolean(), policiesArb(nodeCount), optional(fc.string({ maxLength: 20 }))).map(
          ([draft, withPolicies, policies, name]) =>
            (id: (index: number) => string) => {
              const node: Json = { id: id(index), ...draft(id) };
              return compact({ ...node, name, ...(withPolicies && node['type'] !== 'fail' ? policies(id) : {}) });
            },
        ),
      );
      return fc.record({
        ids: fc.uniqueArray(nodeIdArb, { minLength: nodeCount, maxLength: nodeCount }),
        nodes: fc.tuple(...drafts),
        triggers: triggersArb(nodeCount),
        order: fc.shuffledSubarray(Array.from({ length: nodeCount }, (_, index) => index), { minLength: nodeCount, maxLength: nodeCount }),
        settings: fc.record({ executionTimeoutMs: fc.integer({ min: 1000, max: 86_400_000 }), maxSteps: fc.integer({ min: 1, max: 10_000 }) }),
        variables: optional(fc.dictionary(variableArb, safeJsonArb, { maxKeys: 5 })),
      });
    })
    .map(({ ids, nodes, triggers, order, settings, variables }) => {
      const id = (index: number): string => ids[index] ?? 'missing';
      const built = nodes.map((draft) => draft(id));
      const spec = compact({ specVersion: 1, settings, variables, triggers: triggers(id), nodes: order.map((index) => built[index]) });
      return spec as unknown as WorkflowSpec;
    });
}

/** JSON values without `__proto__` keys, which the validator refuses on purpose. */
const safeJsonArb: fc.Arbitrary<JsonValue> = fc
  .jsonValue({ maxDepth: 2 })
  .filter((value) => !JSON.stringify(value).includes('"__proto__"')) as fc.Arbitrary<JsonValue>;
