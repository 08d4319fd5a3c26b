import type { ExpressionLimitName } from './expression-sandbox.js';

/**
 * Known sandbox-escape and denial-of-service payloads against workflow expressions, and what
 * must happen to each. `expression-corpus.spec.ts` runs every one (with an event-loop monitor)
 * and the engine's tests run some through whole executions. Add a payload whenever one is
 * published against an expression engine like ours.
 *
 * - `refused`: validation refuses the expression (the static check's code: `expression`, or
 *   `regex` for a regular expression the linear-time engine cannot run).
 * - `limit`: evaluation stops with `expression.limit`, at the named limit. `cpu` stands for
 *   `work` or `time`: which of the two a CPU-bound payload meets first depends on the machine.
 * - `error`: evaluation fails with an ordinary JSONata error (the node's `expression.error`).
 * - `value`: evaluation succeeds with exactly this value (undefined: nothing), revealing
 *   nothing of the host.
 */
export type CorpusExpectation =
  | { readonly refused: 'expression' | 'regex' }
  | { readonly limit: ExpressionLimitName | 'cpu' }
  | { readonly error: true }
  | { readonly value: unknown };

export interface CorpusPayload {
  readonly name: string;
  /** Where it comes from: n8n's published sandbox tests, JSONata-specific tricks, ReDoS, resource exhaustion. */
  readonly family: 'n8n' | 'prototype' | 'host' | 'recursion' | 'allocation' | 'cpu' | 'regex';
  readonly source: string;
  readonly expect: CorpusExpectation;
}

/** The expression input the corpus runs against: a USSD execution with a hostile reply. */
export const CORPUS_CONTEXT = {
  trigger: { text: 'aaaaaaaaaaaaaaaaaaaaaaaaa!', msisdn: '+254700000001' },
  vars: { reply: 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', amount: 250 },
  nodes: { lookup: { status: 200, body: { items: [{ id: 1, name: 'one' }, { id: 2, name: 'two' }] } } },
  session: { sessionId: 's-1', msisdn: '+254700000001', serviceCode: '*384*1#', input: '1' },
  execution: { id: '00000000-0000-4000-8000-000000000001', workflowId: '00000000-0000-4000-8000-000000000002', version: 1, environment: 'production' },
} as const;

/** A recursive builder of objects whose two members are the same object: size doubles per level. */
const doubling = "($d := function($n) { $reduce([1..$n], function($c, $i) { {'a': $c, 'b': $c} }, {'x': 'xxxxxxxx'}) };";

export const EXPRESSION_CORPUS: readonly CorpusPayload[] = [
  // --- Payloads from n8n's expression sandbox tests (JavaScript): not JSONata, refused or inert.
  { family: 'n8n', name: 'constructor chain to Function', source: "this.constructor.constructor('return process')()", expect: { value: undefined } },
  { family: 'n8n', name: '__proto__ chain', source: '({}).__proto__.__proto__', expect: { value: undefined } },
  { family: 'n8n', name: 'Number.prototype', source: 'Number.prototype', expect: { value: undefined } },
  { family: 'n8n', name: 'Error.prepareStackTrace', source: 'Error.prepareStackTrace', expect: { value: undefined } },
  { family: 'n8n', name: 'template literal constructor', source: 'Number[`constructor`]', expect: { value: undefined } },
  { family: 'n8n', name: 'arrow function to globalThis', source: '(() => globalThis)()', expect: { refused: 'expression' } },
  { family: 'n8n', name: 'spread process', source: '({...process})', expect: { refused: 'expression' } },
  { family: 'n8n', name: 'getBuiltinModule RCE', source: "((g) => g.getBuiltinModule('child_process').execSync('id').toString())({...process})", expect: { refused: 'expression' } },
  { family: 'n8n', name: 'with statement', source: '(function(){ var constructor = 123; with(function(){}){ return constructor("return 1")() } })()', expect: { refused: 'expression' } },
  { family: 'n8n', name: 'class extends Function', source: '(() => { class Z extends Function {} return new Z("return 1")(); })()', expect: { refused: 'expression' } },
  { family: 'n8n', name: 'process.mainModule.require', source: "process.mainModule.require('child_process').execSync('env')", expect: { value: undefined } },
  { family: 'n8n', name: 'array-index __proto__ pollution', source: "({})[['__proto__']].polluted = 1", expect: { value: false } },

  // --- Prototypes and pollution through JSONata's own constructs.
  { family: 'prototype', name: '$$.constructor', source: '$$.constructor', expect: { value: undefined } },
  { family: 'prototype', name: '$.constructor.constructor call', source: "$.constructor.constructor('return process')()", expect: { value: undefined } },
  { family: 'prototype', name: 'vars.__proto__', source: 'vars.__proto__', expect: { value: undefined } },
  { family: 'prototype', name: 'backtick __proto__', source: '$$.`__proto__`.`constructor`', expect: { value: undefined } },
  { family: 'prototype', name: '$lookup constructor', source: "$lookup($$, 'constructor')", expect: { value: undefined } },
  { family: 'prototype', name: '$lookup __proto__', source: "$lookup(vars, '__proto__')", expect: { value: undefined } },
  { family: 'prototype', name: 'object constructor with __proto__ key', source: "{'__proto__': {'polluted': 'yes'}}.polluted", expect: { value: undefined } },
  { family: 'prototype', name: '$merge __proto__', source: "$merge([{'__proto__': {'polluted': 'yes'}}, {'a': 1}]).polluted", expect: { value: undefined } },
  { family: 'prototype', name: 'transform __proto__', source: "($ ~> |$|{'__proto__': {'polluted': 'yes'}}|).polluted", expect: { value: undefined } },
  { family: 'prototype', name: '$sift for constructor', source: "$sift($$, function($v, $k) { $k = 'constructor' })", expect: { value: undefined } },
  { family: 'prototype', name: '$keys of the context', source: '$keys(execution)', expect: { value: ['id', 'workflowId', 'version', 'environment'] } },

  // --- Reaching the host: functions, their internals, $eval.
  { family: 'host', name: '$eval', source: "$eval('1 + 1')", expect: { refused: 'expression' } },
  { family: 'host', name: '$eval as a value', source: "($e := $eval; $e('process'))", expect: { refused: 'expression' } },
  { family: 'host', name: '$string of a function', source: '$string($string)', expect: { value: '' } },
  { family: 'host', name: 'a built-in function as data', source: '$string($spread($pad))', expect: { value: '' } },
  { family: 'host', name: 'implementation of a built-in', source: '$pad.implementation', expect: { value: undefined } },
  { family: 'host', name: 'call a spread built-in', source: "$spread($pad).implementation('', 100000000)", expect: { error: true } },
  { family: 'host', name: 'lambda internals by wildcard', source: '(function($x) { $x }).*', expect: { value: undefined } },
  { family: 'host', name: 'lambda environment', source: '(function($x) { $x }).environment', expect: { value: undefined } },
  { family: 'host', name: '$each over a function', source: '$each($string, function($v, $k) { $k })', expect: { error: true } },
  { family: 'host', name: '$lookup on a lambda', source: "$lookup(function($x) { $x }, 'environment')", expect: { value: undefined } },
  { family: 'host', name: 'process from the context', source: '$$.process.env', expect: { value: undefined } },
  { family: 'host', name: '$error is an ordinary error', source: "$error('boom')", expect: { error: true } },

  // --- Recursion.
  { family: 'recursion', name: 'self-application (tail call, never ends)', source: '($f := function($f) { $f($f) }; $f($f))', expect: { limit: 'cpu' } },
  { family: 'recursion', name: 'unbounded recursion', source: '($f := function($n) { $f($n + 1) + 1 }; $f(0))', expect: { limit: 'depth' } },
  { family: 'recursion', name: 'exponential recursion', source: '($f := function($n) { $n = 0 ? 0 : $f($n - 1) + $f($n - 1) }; $f(40))', expect: { limit: 'cpu' } },
  { family: 'recursion', name: 'tail-recursive loop', source: '($loop := function($n) { $loop($n + 1) }; $loop(0))', expect: { limit: 'cpu' } },
  { family: 'recursion', name: 'roman numerals of a huge number', source: "$formatInteger(1e15, 'I')", expect: { limit: 'depth' } },

  // --- Allocation.
  { family: 'allocation', name: '$pad 30 million', source: "$pad('', 30000000)", expect: { limit: 'string' } },
  { family: 'allocation', name: '$pad negative width', source: "$pad('x', -30000000)", expect: { limit: 'string' } },
  { family: 'allocation', name: '$pad with a long fill', source: "$pad('x', 2000000, $pad('', 1000, 'ab'))", expect: { limit: 'string' } },
  { family: 'allocation', name: 'range of 100 million', source: '[1..100000000]', expect: { limit: 'items' } },
  { family: 'allocation', name: '$count of a range of 10 million', source: '$count([1..10000000])', expect: { limit: 'items' } },
  { family: 'allocation', name: '$map over a huge range', source: '$map([1..100000000], function($x) { $x })', expect: { limit: 'items' } },
  { family: 'allocation', name: '$append past the item limit', source: '$append([1..10000], [1..10000])', expect: { limit: 'items' } },
  { family: 'allocation', name: 'array constructor doubling', source: '$reduce([1..20], function($a, $i) { [$a, $a] }, [1])', expect: { limit: 'items' } },
  { family: 'allocation', name: 'string doubling with &', source: "$reduce([1..40], function($s, $i) { $s & $s }, 'x')", expect: { limit: 'string' } },
  { family: 'allocation', name: 'object doubling (shared halves)', source: `${doubling} $d(60))`, expect: { limit: 'size' } },
  { family: 'allocation', name: 'comparing two doubled objects', source: `${doubling} $d(40) = $d(40))`, expect: { limit: 'size' } },
  { family: 'allocation', name: '$string of a doubled object', source: `${doubling} $string($d(40)))`, expect: { limit: 'size' } },
  { family: 'allocation', name: 'descendants of a doubled object', source: `${doubling} $count($d(40).**))`, expect: { limit: 'size' } },
  { family: 'allocation', name: 'many big strings in one array', source: "[1..100].$pad('', 100000)", expect: { limit: 'size' } },
  { family: 'allocation', name: '$join of big strings', source: "$join([1..100].$pad('', 20000), '')", expect: { limit: 'string' } },
  { family: 'allocation', name: '$string of a 4 MB value', source: "$string([1..40].$pad('', 100000))", expect: { limit: 'string' } },
  { family: 'allocation', name: '$split into characters', source: "$split($pad('', 100000, 'a'), '')", expect: { limit: 'items' } },
  { family: 'allocation', name: '$replace growing a string', source: "$replace($pad('', 100000, 'a'), 'a', $pad('', 1000, 'b'))", expect: { limit: 'string' } },
  { family: 'allocation', name: '$encodeUrl expanding', source: "$encodeUrl($pad('', 1000000, '€'))", expect: { limit: 'work' } },
  { family: 'allocation', name: '$encodeUrl expanding past the string limit', source: "$encodeUrl($pad('', 150000, '€'))", expect: { limit: 'string' } },
  { family: 'allocation', name: '$merge of big objects', source: "$merge([1..50].{$string($): $pad('', 100000)})", expect: { limit: 'size' } },
  { family: 'allocation', name: '$formatNumber with a huge picture', source: "$formatNumber(1, '#,##0.' & $pad('', 100000, '0'))", expect: { limit: 'picture' } },
  { family: 'allocation', name: '$fromMillis with a huge width', source: "$fromMillis(0, '[Y,1000000000]')", expect: { limit: 'picture' } },
  { family: 'allocation', name: '$now with a huge width', source: "$now('[Y0,2000-2000]')", expect: { limit: 'picture' } },
  { family: 'allocation', name: 'a 1 MB string is allowed', source: "$length($pad('', 1000000, 'a'))", expect: { value: 1000000 } },

  // --- CPU without allocation.
  { family: 'cpu', name: '$sort with a comparator on 10,000 items', source: '$sort([1..10000], function($a, $b) { $a < $b })', expect: { limit: 'cpu' } },
  { family: 'cpu', name: '$distinct of 10,000 objects', source: "$distinct([1..10000].{'k': $ % 7})", expect: { limit: 'cpu' } },
  { family: 'cpu', name: 'nested $map', source: '$map([1..10000], function($i) { $map([1..10000], function($j) { $i * $j }) })', expect: { limit: 'cpu' } },
  { family: 'cpu', name: 'string building in a loop', source: "$reduce([1..10000], function($a, $i) { $a & 'xxxxxxxxxxxxxxxxxxxx' }, '')", expect: { limit: 'cpu' } },
  { family: 'cpu', name: 'comparing big strings in a loop', source: "($s := $pad('', 1000000, 'a'); $t := $pad('', 1000000, 'a'); $count([1..10000][$s = $t]))", expect: { limit: 'cpu' } },
  { family: 'cpu', name: '$toMillis with a backtracking picture', source: "$toMillis('1111111111111111111111111111111111111111111111111111111111111x', '[Y][M][D][H][m][s][f][Y][M][D][H][m][s]')", expect: { limit: 'picture' } },
  { family: 'cpu', name: '$distinct of 2,000 plain values', source: '$count($distinct([1..2000].($ % 100)))', expect: { value: 100 } },

  // --- Regular expressions: RE2 runs them in linear time.
  { family: 'regex', name: 'catastrophic nested quantifier', source: '$match(vars.reply, /^(a+)+$/)', expect: { value: undefined } },
  { family: 'regex', name: 'catastrophic alternation', source: "$contains($pad('', 3000, 'a') & '!', /^(a|aa)+$/)", expect: { value: false } },
  { family: 'regex', name: 'catastrophic in $replace', source: "$replace(trigger.text, /(a*)*b/, 'x')", expect: { value: 'aaaaaaaaaaaaaaaaaaaaaaaaa!' } },
  { family: 'regex', name: 'catastrophic in $split', source: "$count($split($pad('', 5000, 'a') & '!', /(a+)+b/))", expect: { value: 1 } },
  { family: 'regex', name: 'email-style ReDoS', source: "$contains($pad('', 1000, 'a'), /^([a-zA-Z0-9])(([\\-.]|[_]+)?([a-zA-Z0-9]+))*(@){1}[a-z0-9]+[.]{1}(([a-z]{2,3})|([a-z]{2,3}[.]{1}[a-z]{2,3}))$/)", expect: { value: false } },
  { family: 'regex', name: 'one search over a long string', source: "$contains($pad('', 1000000, 'a'), /(a+)+b/)", expect: { limit: 'work' } },
  { family: 'regex', name: 'searching a long string repeatedly', source: "$count($match($pad('', 500000, 'ab'), /b/))", expect: { limit: 'cpu' } },
  { family: 'regex', name: 'backreference', source: "$match('aa', /(a)\\1/)", expect: { refused: 'regex' } },
  { family: 'regex', name: 'lookahead', source: "$match('ab', /a(?=b)/)", expect: { refused: 'regex' } },
  { family: 'regex', name: 'repetition that compiles to millions of steps', source: "$match('a', /((a{1000}){1000}){1000}/)", expect: { refused: 'regex' } },
];
