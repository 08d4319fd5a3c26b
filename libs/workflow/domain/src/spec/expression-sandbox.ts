import jsonata from 'jsonata';
import { LinearRegExp, UnsupportedRegexError } from './linear-regex.js';

/**
 * What one evaluation of a workflow expression may use (docs/workflow-spec.md, "Limits of an
 * evaluation"). The budget counts work, not wall-clock time, so an expression succeeds or fails
 * the same way on an idle worker and on a busy one:
 *
 * - `work`: units per evaluation. One unit is one evaluation step, about 2 µs of one core of the
 *   reference machine (a function call costs 5); built-ins, regular expressions, comparisons and the values an expression
 *   builds are charged for the data they process at rates measured against that
 *   (docs/decisions/0017-bounded-expressions.md). 25,000 units are 50 to 100 ms.
 * - `cpuMs`: a backstop on the evaluation's own time, in case a construct costs far more than
 *   its units say: the sum of its synchronous stretches (the time between two of its steps
 *   when no other evaluation ran in between; one stretch counts at most `STRETCH_MS`, so a
 *   garbage-collection pause is not pinned on one expression). Time spent in other hops' work,
 *   or waiting for the event loop, never counts.
 * - `operation`: units one built-in call or one regular-expression search may cost, charged
 *   before it runs: the longest stretch a single operation can hold the event loop (~20 ms).
 * - `depth`: nested evaluation steps (deep recursion).
 * - `items`: items of one array or sequence; ranges included.
 * - `stringLength`: characters of one string an expression builds.
 * - `valueSize`: characters one value an expression builds would have as JSON, a shared part
 *   counted every time it appears (so nesting `{'a': $x, 'b': $x}` cannot double a value for free).
 * - `pictureLength`: characters of a picture string (`$formatNumber`, `$fromMillis`, ...), and
 *   `pictureWidth` the widest field one may ask for.
 * - `wallClockMs`: a last backstop far above what the work budget allows; only a starved
 *   worker reaches it.
 *
 * Evaluation steps are promises, not tasks, so JSONata alone would hold the event loop from an
 * evaluation's first step to its last: after `SLICE_MS` of steps without a break, an evaluation
 * lets the event loop turn (timers, I/O, other hops) before its next step.
 */
export const EXPRESSION_EVALUATION_LIMITS = {
  work: 25_000,
  cpuMs: 250,
  operation: 10_000,
  depth: 200,
  items: 10_000,
  stringLength: 1_048_576,
  valueSize: 4_194_304,
  pictureLength: 1_000,
  pictureWidth: 1_000,
  wallClockMs: 5_000,
} as const;

export type ExpressionLimits = { readonly [K in keyof typeof EXPRESSION_EVALUATION_LIMITS]: number };

/** Which limit an evaluation hit; stable names, shown in messages and in `ExpressionLimitError.limit`. */
export type ExpressionLimitName = 'work' | 'depth' | 'items' | 'string' | 'size' | 'picture' | 'regex' | 'time' | 'forbidden';

/** The error code of every limit breach, for retry and catch rules. */
export const EXPRESSION_LIMIT_CODE = 'expression.limit';

/** An evaluation stopped at a limit. `code` is always `expression.limit`; `limit` names which. */
export class ExpressionLimitError extends Error {
  override readonly name = 'ExpressionLimitError';
  readonly code = EXPRESSION_LIMIT_CODE;
  constructor(
    readonly limit: ExpressionLimitName,
    message: string,
  ) {
    super(message);
  }
}

export interface EvaluateOptions {
  /** Extra variables (`$value`). */
  readonly bindings?: Readonly<Record<string, unknown>>;
  /** Once aborted (the node timed out, the execution was canceled), the next step stops the evaluation. */
  readonly signal?: AbortSignal;
  /**
   * How the evaluation lets the event loop turn after a slice of steps: by default
   * `setImmediate`. The engine passes its clock's `sleep(0)`, so a test clock that moves time
   * when the process is idle sees a timer, not idleness.
   */
  readonly pause?: () => Promise<void>;
  /** Tests only: tighter limits. */
  readonly limits?: Partial<ExpressionLimits>;
}

/** A compiled expression that can only be evaluated within EXPRESSION_EVALUATION_LIMITS. */
export interface BoundedExpression {
  evaluate(input: unknown, bindings?: Readonly<Record<string, unknown>>, options?: Omit<EvaluateOptions, 'bindings'>): Promise<unknown>;
  ast(): jsonata.ExprNode;
}

/**
 * Charging rates, in characters or values per unit (about 2 µs each), measured on the
 * reference machine (decision 0017): native copies and scans, JSON serialisation and deep
 * comparison, walking values, RE2's NFA (characters times program size), URL encoding, and
 * case or whitespace transforms.
 */
const RATE = { copy: 1_024, serialise: 48, values: 64, regex: 10, encode: 16, transform: 256 } as const;

/**
 * A function call (`$f(x)`, `x ~> $f`, `$f(?, 1)`) costs this much more than a plain step: JSONata
 * validates the arguments, builds a frame and, for a tail call, a thunk (5 to 10 µs measured).
 */
const CALL_UNITS = 4;
const CALL_TYPES = new Set(['function', 'partial', 'apply']);

/** The longest run of evaluation steps, across all evaluations, before the event loop gets a turn. */
const SLICE_MS = 5;
/**
 * The most one stretch between two steps of an evaluation counts towards its `cpuMs`. Steps take
 * microseconds; a longer stretch is a garbage-collection pause or other code's microtasks
 * (already-charged built-ins aside), not the expression's work.
 */
const STRETCH_MS = 1;

/** The name the per-evaluation state is bound under: JSONata cannot spell a variable with a space. */
const STATE_BINDING = ' sandbox';

interface Frame {
  readonly base: Frame;
  lookup(name: string | symbol): unknown;
  bind(name: string | symbol, value: unknown): void;
  RegexEngine?: unknown;
}

interface Focus {
  readonly environment: Frame;
  readonly input: unknown;
  createSequence(...items: unknown[]): unknown[];
}

type Implementation = (this: Focus, ...args: unknown[]) => unknown;

interface EvaluationState {
  spent: number;
  /** Milliseconds of this evaluation's own synchronous stretches. */
  cpu: number;
  readonly limits: ExpressionLimits;
  /** Logical sizes of the containers seen in this evaluation. */
  readonly sizes: WeakMap<object, number>;
  readonly signal: AbortSignal | undefined;
  readonly pause: () => Promise<void>;
  regexEngine: ((pattern: RegExp) => LinearRegExp) | undefined;
}

function newState(options: EvaluateOptions = {}): EvaluationState {
  return {
    spent: 0,
    cpu: 0,
    limits: { ...EXPRESSION_EVALUATION_LIMITS, ...options.limits },
    sizes: new WeakMap(),
    signal: options.signal,
    pause: options.pause ?? nextTurn,
    regexEngine: undefined,
  };
}

function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

function stateOf(environment: Frame): EvaluationState {
  const base = environment.base;
  let state = base.lookup(STATE_BINDING) as EvaluationState | undefined;
  if (state === undefined) {
    state = newState();
    base.bind(STATE_BINDING, state);
  }
  return state;
}

function charge(state: EvaluationState, units: number): void {
  state.spent += units;
  if (state.spent > state.limits.work) {
    throw new ExpressionLimitError('work', `the expression exceeded its work budget of ${state.limits.work} units (evaluation steps and data processed)`);
  }
}

/** Charges one operation before it runs: refused when it alone would pass `operation`. */
function precharge(state: EvaluationState, units: number, what: string): void {
  if (units > state.limits.operation) {
    throw new ExpressionLimitError('work', `${what} would cost about ${Math.ceil(units)} units; one operation may cost at most ${state.limits.operation}`);
  }
  charge(state, Math.ceil(units));
}

const chargeChars = (state: EvaluationState, characters: number, rate: number = RATE.copy) => charge(state, Math.ceil(characters / rate));
const chargeValues = (state: EvaluationState, values: number) => charge(state, Math.ceil(values / RATE.values));

function checkString(state: EvaluationState, length: number, what = 'a string'): void {
  if (length > state.limits.stringLength) {
    throw new ExpressionLimitError('string', `${what} of ${length} characters exceeds the limit of ${state.limits.stringLength}`);
  }
}

function checkItems(state: EvaluationState, count: number, what = 'an array'): void {
  if (count > state.limits.items) throw new ExpressionLimitError('items', `${what} of ${count} items exceeds the limit of ${state.limits.items}`);
}

const isFunctionValue = (value: object): boolean =>
  typeof value === 'function' || (value as { _jsonata_lambda?: unknown })._jsonata_lambda === true || (value as { _jsonata_function?: unknown })._jsonata_function === true;

function primitiveSize(value: unknown): number {
  switch (typeof value) {
    case 'string':
      return value.length + 2;
    case 'number':
      return 8;
    case 'boolean':
      return 5;
    case 'object':
      return value === null ? 4 : 0;
    default:
      return 0;
  }
}

/**
 * The value's size as JSON characters with shared parts counted each time they appear, computed
 * without recursion and remembered per container, so a value built from parts already measured
 * costs only its own members. Throws once the size passes `valueSize`.
 */
function sizeOf(value: unknown, state: EvaluationState): number {
  if (typeof value !== 'object' || value === null) return primitiveSize(value);
  if (isFunctionValue(value)) return 0;
  const known = state.sizes.get(value);
  if (known !== undefined) return known;
  const { sizes, limits } = state;
  const expanded = new Set<object>();
  const stack: object[] = [value];
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as object;
    if (sizes.has(top)) {
      stack.pop();
      continue;
    }
    const members = Array.isArray(top) ? (top as unknown[]) : Object.values(top);
    if (!expanded.has(top)) {
      expanded.add(top);
      chargeValues(state, members.length + 1);
      for (const member of members) {
        if (typeof member === 'object' && member !== null && !sizes.has(member) && !isFunctionValue(member)) {
          if (expanded.has(member)) throw new ExpressionLimitError('size', 'the value contains itself');
          stack.push(member);
        }
      }
      continue;
    }
    let size = 2 + members.length;
    if (!Array.isArray(top)) for (const key of Object.keys(top)) size += key.length + 3;
    for (const member of members) {
      size += typeof member === 'object' && member !== null ? (sizes.get(member) ?? 0) : primitiveSize(member);
    }
    if (size > limits.valueSize) {
      throw new ExpressionLimitError('size', `a value of more than ${limits.valueSize} characters as JSON (shared parts counted each time) exceeds the limit`);
    }
    sizes.set(top, size);
    stack.pop();
  }
  return sizes.get(value) ?? 0;
}

/** Checks a value an evaluation step produced: strings, arrays, and the size of what it built. */
function checkProduced(value: unknown, state: EvaluationState): void {
  if (typeof value === 'string') checkString(state, value.length);
  else if (typeof value === 'object' && value !== null) {
    if (Array.isArray(value)) checkItems(state, value.length);
    sizeOf(value, state);
  }
}

// ---------------------------------------------------------------------------------------------
// What the evaluator tells us about each step (JSONata's __evaluate_entry / __evaluate_exit hooks)
// ---------------------------------------------------------------------------------------------

/**
 * AST nodes whose result is part of a value that already exists (the input, or a value measured
 * when it was built): a field, a wildcard, a parent, a variable, and paths made only of those.
 * Their results are not measured again, so reading `nodes.fetch.body.balance` costs nothing
 * however large `nodes` is.
 */
const navigation = new WeakSet<object>();
/** Operands of `=`, `!=` and `in`: comparing walks them, so each comparison is charged their size. */
const compared = new WeakSet<object>();
/** `&` nodes: the concatenation copies both sides. */
const concatenations = new WeakSet<object>();

/** A node of JSONata's parsed tree, as the evaluator sees it (its typings lag: `regex`, `path`, ...). */
interface AstNode {
  readonly type: string;
  readonly value?: unknown;
  readonly steps?: AstNode[];
  readonly group?: unknown;
  readonly focus?: unknown;
  readonly index?: unknown;
  readonly tuple?: unknown;
  readonly lhs?: AstNode;
  readonly rhs?: AstNode;
}

const NAVIGATION_TYPES = new Set(['name', 'wildcard', 'parent', 'variable', 'string', 'number', 'value', 'regex', 'lambda']);

function isNavigationStep(step: AstNode, first: boolean): boolean {
  if (step.group !== undefined || step.focus !== undefined || step.index !== undefined || step.tuple !== undefined) return false;
  if (step.type === 'variable') return first;
  return step.type === 'name' || step.type === 'wildcard' || step.type === 'parent';
}

/** Classifies every node of a parsed expression once, when it is compiled. */
function classify(ast: jsonata.ExprNode): void {
  const pending: unknown[] = [ast];
  const seen = new Set<unknown>();
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (Array.isArray(value)) {
      pending.push(...(value as unknown[]));
      continue;
    }
    const node = value as AstNode;
    if (typeof node.type === 'string') {
      if (node.type === 'path') {
        if ((node.steps ?? []).every((step, index) => isNavigationStep(step, index === 0)) && node.group === undefined) navigation.add(node);
      } else if (NAVIGATION_TYPES.has(node.type) && node.group === undefined && node.focus === undefined && node.index === undefined && node.tuple === undefined) {
        navigation.add(node);
      }
      if (node.type === 'binary' && (node.value === '=' || node.value === '!=' || node.value === 'in')) {
        if (node.lhs !== undefined) compared.add(node.lhs);
        if (node.rhs !== undefined) compared.add(node.rhs);
      }
      if (node.type === 'binary' && node.value === '&') concatenations.add(node);
    }
    pending.push(...Object.values(value));
  }
}

/**
 * Time: the last hook call of any evaluation, and the current slice (steps of any evaluation
 * since the event loop last turned). A setImmediate armed with the slice ends it when the loop
 * turns on its own; past SLICE_MS the next step yields so that it does.
 */
let lastState: EvaluationState | undefined;
let lastAt = 0;
let sliceStartedAt = 0;
let sliceArmed = false;
const endSlice = () => {
  sliceArmed = false;
  lastState = undefined;
};

/** Counts the time since this evaluation's previous hook, if nothing else ran in between. */
function clock(state: EvaluationState): number {
  const now = performance.now();
  if (lastState === state) {
    state.cpu += Math.min(now - lastAt, STRETCH_MS);
    if (state.cpu > state.limits.cpuMs) {
      lastState = undefined;
      throw new ExpressionLimitError('time', `the expression used more than ${state.limits.cpuMs} ms of its own CPU time`);
    }
  }
  lastState = state;
  lastAt = now;
  return now;
}

function onEntry(expr: AstNode, _input: unknown, environment: Frame): Promise<void> | undefined {
  const state = stateOf(environment);
  const now = clock(state);
  charge(state, CALL_TYPES.has(expr.type) ? 1 + CALL_UNITS : 1);
  if (state.signal?.aborted === true) throw new ExpressionLimitError('time', 'the evaluation was abandoned: its node timed out or was canceled');
  if (expr.type === 'regex') environment.base.RegexEngine = regexEngineFor(state);
  if (!sliceArmed) {
    sliceArmed = true;
    sliceStartedAt = now;
    setImmediate(endSlice);
    return undefined;
  }
  if (now - sliceStartedAt < SLICE_MS) return undefined;
  lastState = undefined;
  return state.pause();
}

function onExit(expr: AstNode, _input: unknown, environment: Frame, result: unknown): void {
  const state = stateOf(environment);
  clock(state);
  if (!navigation.has(expr)) {
    checkProduced(result, state);
    if (typeof result === 'string' && concatenations.has(expr)) chargeChars(state, result.length);
  }
  if (compared.has(expr)) chargeChars(state, sizeOf(result, state), RATE.serialise);
}

/** JSONata's RegexEngine for one evaluation: linear-time matching, each search charged before it runs. */
function regexEngineFor(state: EvaluationState): (pattern: RegExp) => LinearRegExp {
  if (state.regexEngine === undefined) {
    // RE2's NFA costs about (characters left) x (program size) in the worst case.
    const meter = (characters: number, programSize: number) =>
      precharge(state, (characters * programSize) / RATE.regex, `a regular expression search (${programSize} steps) over ${characters} characters`);
    // JSONata calls it with `new`; a function that returns an object makes `new` return that object.
    state.regexEngine = function RegexEngine(pattern: RegExp) {
      return new LinearRegExp(pattern, undefined, meter);
    };
  }
  return state.regexEngine;
}

// ---------------------------------------------------------------------------------------------
// Built-ins: JSONata's own, wrapped so no single call can allocate or loop past the limits
// ---------------------------------------------------------------------------------------------

type Call = (this: Focus, state: EvaluationState, original: Implementation, args: unknown[]) => unknown;

interface Override {
  /** JSONata's signature of the function, unchanged, so arguments are validated as before. */
  readonly signature: string;
  /** Characters of string arguments per unit (RATE.copy unless the function is slower). */
  readonly rate?: number;
  readonly call?: Call;
}

const stringArg = (value: unknown): number => (typeof value === 'string' ? value.length : 0);
const itemsArg = (value: unknown): number => (Array.isArray(value) ? value.length : 0);

/** Charges what the arguments hold (strings by length, arrays by items) before the call, without walking them. */
function chargeArguments(state: EvaluationState, name: string, args: readonly unknown[], rate: number): void {
  let characters = 0;
  let items = 0;
  for (const arg of args) {
    characters += stringArg(arg);
    items += itemsArg(arg);
  }
  if (characters > 0 || items > 0) precharge(state, characters / rate + items / RATE.values, `$${name} of ${characters} characters and ${items} items`);
}

function checkPicture(state: EvaluationState, picture: unknown): void {
  if (typeof picture !== 'string') return;
  if (picture.length > state.limits.pictureLength) {
    throw new ExpressionLimitError('picture', `a picture string of ${picture.length} characters exceeds the limit of ${state.limits.pictureLength}`);
  }
  // Width modifiers ([Y,12-12]) and runs of digits ([f000001]) ask for that many characters.
  for (const run of picture.match(/\d+/g) ?? []) {
    const width = run.length > 6 ? Number.POSITIVE_INFINITY : Number(run);
    if (width > state.limits.pictureWidth) {
      throw new ExpressionLimitError('picture', `a picture asks for a field ${run.length > 6 ? `of ${run} characters` : `${width} characters wide`}; at most ${state.limits.pictureWidth}`);
    }
  }
}

const delegate: Call = function (this: Focus, _state, original, args) {
  return original.apply(this, args);
};

const OVERRIDES: Readonly<Record<string, Override>> = {
  // Strings
  string: {
    signature: '<x-b?:s>',
    call(state, original, args) {
      const [value] = args;
      if (typeof value === 'object' && value !== null) {
        const size = sizeOf(value, state);
        // Prettified JSON adds indentation; the result is checked again when it is returned.
        checkString(state, size, '$string of a value');
        precharge(state, size / RATE.serialise, `$string of a value of ${size} characters`);
      }
      return original.apply(this, args);
    },
  },
  pad: {
    signature: '<s-ns?:s>',
    call(state, _original, args) {
      const [str, width, char] = args as [string | undefined, number, string | undefined];
      if (str === undefined) return undefined;
      const wanted = Math.abs(Math.trunc(width));
      if (!(wanted <= state.limits.stringLength)) checkString(state, Number.isFinite(wanted) ? wanted : Number.MAX_SAFE_INTEGER, '$pad to a width');
      return pad(str, width, char);
    },
  },
  length: {
    signature: '<s-:n>',
    call: (_state, _original, args) => (typeof args[0] === 'string' ? codePointLength(args[0]) : undefined),
  },
  substring: {
    signature: '<s-nn?:s>',
    call(state, original, args) {
      const [str, start, length] = args as [string | undefined, number, number | undefined];
      if (str === undefined || hasSurrogates(str)) {
        // JSONata splits the string into code points first: slow, so charged as such.
        if (str !== undefined) precharge(state, (str.length * 32) / RATE.copy, `$substring of ${str.length} characters with surrogate pairs`);
        return original.apply(this, args);
      }
      return substring(str, start, length);
    },
  },
  join: {
    signature: '<a<s>s?:s>',
    call(state, original, args) {
      const [strings, separator] = args;
      if (Array.isArray(strings)) {
        let length = Math.max(0, strings.length - 1) * stringArg(separator);
        for (const item of strings) length += stringArg(item);
        checkString(state, length, '$join result');
      }
      return original.apply(this, args);
    },
  },
  replace: {
    signature: '<s-(sf)(sf)n?:s>',
    call(state, original, args) {
      const [str, pattern, replacement, limit] = args;
      if (typeof str === 'string' && typeof pattern === 'string' && pattern.length > 0 && typeof replacement === 'string') {
        const most = typeof limit === 'number' ? limit : Number.POSITIVE_INFINITY;
        let count = 0;
        for (let at = str.indexOf(pattern); at >= 0 && count < most; at = str.indexOf(pattern, at + pattern.length)) count += 1;
        checkString(state, str.length + count * Math.max(0, replacement.length - pattern.length), '$replace result');
      }
      return original.apply(this, args);
    },
  },
  split: { signature: '<s-(sf)n?:a<s>>', rate: RATE.transform, call: cappedItems(2) },
  match: { signature: '<s-f<s:o>n?:a<o>>', call: cappedItems(2) },
  contains: { signature: '<s-(sf):b>' },
  substringBefore: { signature: '<s-s:s>' },
  substringAfter: { signature: '<s-s:s>' },
  lowercase: { signature: '<s-:s>', rate: RATE.transform },
  uppercase: { signature: '<s-:s>', rate: RATE.transform },
  trim: { signature: '<s-:s>', rate: RATE.transform },
  base64encode: { signature: '<s-:s>' },
  base64decode: { signature: '<s-:s>' },
  encodeUrlComponent: { signature: '<s-:s>', rate: RATE.encode },
  encodeUrl: { signature: '<s-:s>', rate: RATE.encode },
  decodeUrlComponent: { signature: '<s-:s>', rate: RATE.encode },
  decodeUrl: { signature: '<s-:s>', rate: RATE.encode },
  // Numbers, dates and pictures
  formatNumber: { signature: '<n-so?:s>', call: withPicture(1) },
  formatInteger: { signature: '<n-s:s>', call: withPicture(1) },
  parseInteger: { signature: '<s-s:n>', call: withPicture(1) },
  fromMillis: { signature: '<n-s?s?:s>', call: withPicture(1) },
  now: {
    // `$now` is bound per parsed expression (it reads that evaluation's timestamp), so it is
    // rebuilt here from `$fromMillis` and the timestamp JSONata keeps on the environment.
    signature: '<s?s?:s>',
    call(state, _original, args) {
      const [picture, timezone] = args;
      checkPicture(state, picture);
      const fromMillis = originals.get('fromMillis') as Implementation;
      const timestamp = (this.environment as { timestamp?: unknown }).timestamp;
      return fromMillis.call(this, timestamp instanceof Date ? timestamp.getTime() : Date.now(), picture, timezone);
    },
  },
  toMillis: {
    signature: '<s-s?:n>',
    call(state, original, args) {
      const [timestamp, picture] = args;
      checkPicture(state, picture);
      // With a picture JSONata matches the timestamp with a backtracking RegExp built from the
      // picture: a few components and a short timestamp keep even its worst case quick.
      if (typeof picture === 'string' && typeof timestamp === 'string') {
        if (timestamp.length > TO_MILLIS.timestamp) {
          throw new ExpressionLimitError('picture', `$toMillis with a picture reads timestamps of at most ${TO_MILLIS.timestamp} characters, got ${timestamp.length}`);
        }
        if ((picture.match(/\[/g) ?? []).length > TO_MILLIS.components) {
          throw new ExpressionLimitError('picture', `$toMillis with a picture takes at most ${TO_MILLIS.components} [components]`);
        }
      }
      return original.apply(this, args);
    },
  },
  // Arrays and objects
  append: { signature: '<xx:a>' },
  reverse: { signature: '<a:a>' },
  shuffle: { signature: '<a:a>' },
  zip: { signature: '<a+>' },
  count: { signature: '<a:n>' },
  sum: { signature: '<a<n>:n>' },
  max: { signature: '<a<n>:n>' },
  min: { signature: '<a<n>:n>' },
  average: { signature: '<a<n>:n>' },
  keys: { signature: '<x-:a<s>>' },
  lookup: { signature: '<x-s:x>' },
  spread: {
    signature: '<x-:a<o>>',
    call(state, original, args) {
      const [value] = args;
      // JSONata spreads a built-in function into its internals (`implementation`, `signature`);
      // treat every function as it treats a lambda: returned as it is.
      if (typeof value === 'object' && value !== null && isFunctionValue(value)) return value;
      // It appends one member at a time, copying the result each time: quadratic in members.
      if (Array.isArray(value)) {
        let members = 0;
        for (const item of value) members += typeof item === 'object' && item !== null ? Object.keys(item).length : 1;
        precharge(state, (members * members) / 2 / RATE.copy, `$spread of ${members} members`);
      }
      return original.apply(this, args);
    },
  },
  merge: { signature: '<a<o>:o>' },
  each: { signature: '<o-f:a>' },
  sift: { signature: '<o-f?:o>' },
  map: { signature: '<af>' },
  filter: { signature: '<af>' },
  single: { signature: '<af?>' },
  reduce: { signature: '<afj?:j>' },
  sort: {
    signature: '<af?:a>',
    call(state, original, args) {
      const [values, comparator] = args;
      if (!Array.isArray(values) || values.length <= 1) return original.apply(this, args);
      if (comparator === undefined) {
        // JSONata's merge sort awaits every comparison; the same order (stable, ascending,
        // numbers or strings only) in one native sort.
        const numbers = values.every((value) => typeof value === 'number');
        if (!numbers && !values.every((value) => typeof value === 'string')) return original.apply(this, args);
        precharge(state, (values.length * Math.log2(values.length)) / RATE.values, `$sort of ${values.length} items`);
        return [...(values as (number | string)[])].sort((a, b) => (a > b ? 1 : a < b ? -1 : 0));
      }
      // With a comparator each comparison is evaluation steps; the merge also copies its halves.
      precharge(state, (values.length * values.length) / 2 / RATE.copy, `$sort of ${values.length} items with a comparator`);
      return original.apply(this, args);
    },
  },
  distinct: {
    signature: '<x:x>',
    call(state, original, args) {
      const [values] = args;
      if (!Array.isArray(values) || values.length <= 1) return original.apply(this, args);
      if (values.every((value) => typeof value !== 'object' || value === null)) {
        // Plain values: equality is ===, so a Set does in one pass what JSONata does in n².
        const result: unknown[] = (values as { sequence?: unknown }).sequence === true ? this.createSequence() : [];
        for (const value of new Set(values)) result.push(value);
        return result;
      }
      // Deep comparisons of every pair: charged before they run.
      const pairs = (values.length * (values.length - 1)) / 2;
      const averageSize = sizeOf(values, state) / values.length;
      precharge(state, (pairs * (1 + averageSize / RATE.serialise)) / RATE.values, `$distinct of ${values.length} values`);
      return original.apply(this, args);
    },
  },
  clone: {
    signature: '<(oa)-:o>',
    call(state, original, args) {
      const size = sizeOf(args[0], state);
      precharge(state, (2 * size) / RATE.serialise, `copying a value of ${size} characters`);
      return original.apply(this, args);
    },
  },
  eval: {
    signature: '<sx?:x>',
    call() {
      throw new ExpressionLimitError('forbidden', '$eval is not allowed in workflow expressions');
    },
  },
};

/** `$toMillis` with a picture: JSONata's RegExp backtracks over adjacent numeric components. */
const TO_MILLIS = { timestamp: 40, components: 8 } as const;

const hasSurrogates = (value: string): boolean => /[\uD800-\uDFFF]/.test(value);

/** Code points, as JSONata's `$length` counts them, without building an array of them. */
function codePointLength(value: string): number {
  let length = value.length;
  for (let index = 0; index < value.length - 1; index += 1) {
    const code = value.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = value.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        length -= 1;
        index += 1;
      }
    }
  }
  return length;
}

/** JSONata's `$substring` for a string without surrogate pairs (code points are UTF-16 units). */
function substring(str: string, start: number, length: number | undefined): string {
  const from = str.length + start < 0 ? 0 : start;
  if (length === undefined) return str.slice(from);
  if (length <= 0) return '';
  return str.slice(from, from >= 0 ? from + length : str.length + from + length);
}

/** JSONata's `$pad`: the padding is `char` repeated, cut to the missing number of code points. */
function pad(str: string, width: number, char: string | undefined): string {
  const fill = char === undefined || char.length === 0 ? ' ' : char;
  const truncated = Math.trunc(width);
  const missing = Math.abs(truncated) - codePointLength(str);
  if (!(missing > 0)) return str;
  let padding: string;
  if (fill.length === 1) padding = fill.repeat(missing);
  else {
    const repeated = fill.repeat(Math.ceil(missing / codePointLength(fill)));
    padding = hasSurrogates(repeated) ? Array.from(repeated).slice(0, missing).join('') : repeated.slice(0, missing);
  }
  return truncated > 0 ? str + padding : padding + str;
}

/** Passes at most `items + 1` as the limit argument (at `index + 1`), so a longer result stops early and fails. */
function cappedItems(limitIndex: number): Call {
  return function (this: Focus, state, original, args) {
    const given = args[limitIndex];
    const capped = [...args];
    while (capped.length <= limitIndex) capped.push(undefined);
    capped[limitIndex] = typeof given === 'number' ? Math.min(given, state.limits.items + 1) : state.limits.items + 1;
    return original.apply(this, capped);
  };
}

function withPicture(pictureIndex: number): Call {
  return function (this: Focus, state, original, args) {
    checkPicture(state, args[pictureIndex]);
    return original.apply(this, args);
  };
}

function wrap(name: string, override: Override, original: Implementation): Implementation {
  const call = override.call ?? delegate;
  const rate = override.rate ?? RATE.copy;
  return function bounded(this: Focus, ...args: unknown[]): unknown {
    const state = stateOf(this.environment);
    chargeArguments(state, name, args, rate);
    const finish = (result: unknown) => {
      checkProduced(result, state);
      if (typeof result === 'string') chargeChars(state, result.length);
      else if (Array.isArray(result)) chargeValues(state, result.length);
      return result;
    };
    const result = call.call(this, state, original, args);
    return isPromise(result) ? result.then(finish) : finish(result);
  };
}

const isPromise = (value: unknown): value is Promise<unknown> => typeof (value as { then?: unknown } | null)?.then === 'function';

// ---------------------------------------------------------------------------------------------
// Set-up: the originals are read once, by evaluating `$name` (JSONata exports no other way)
// ---------------------------------------------------------------------------------------------

const originals = new Map<string, Implementation>();
const bounded = new Map<string, unknown>();

/** Resolves once the bounded built-ins are ready; evaluation waits for it (a few ms, once per process). */
export const sandboxReady: Promise<void> = (async () => {
  const names = Object.keys(OVERRIDES);
  const table = `{ ${names.map((name) => `'${name}': $${name}`).join(', ')} }`;
  const found = (await jsonata(table).evaluate({})) as Record<string, { implementation?: unknown } | undefined>;
  for (const name of names) {
    const implementation = found[name]?.implementation;
    if (typeof implementation !== 'function') throw new Error(`JSONata has no built-in $${name} to bound`);
    originals.set(name, implementation as Implementation);
  }
  const donor = jsonata(table);
  for (const name of names) {
    const override = OVERRIDES[name] as Override;
    // JSONata passes its focus (environment, input, createSequence) as `this`; its typings omit createSequence.
    const implementation = wrap(name, override, originals.get(name) as Implementation) as unknown as (this: jsonata.Focus, ...args: unknown[]) => unknown;
    donor.registerFunction(name, implementation, override.signature);
  }
  const defined = (await donor.evaluate({})) as Record<string, unknown>;
  for (const name of names) bounded.set(name, defined[name]);
})();
// Evaluations await it and see its failure; this only keeps an early failure from being "unhandled".
sandboxReady.catch(() => undefined);

const installed = new WeakSet<jsonata.Expression>();

function install(expression: jsonata.Expression): void {
  if (installed.has(expression)) return;
  const assign = expression.assign as (name: string | symbol, value: unknown) => void;
  for (const [name, fn] of bounded) assign(name, fn);
  assign(Symbol.for('jsonata.__evaluate_entry'), onEntry);
  assign(Symbol.for('jsonata.__evaluate_exit'), onExit);
  installed.add(expression);
}

/**
 * Parses with JSONata's own guards set (depth, sequence length, the wall-clock backstop) and
 * regular expressions on RE2. Throws JSONata's parse errors.
 */
export function parseBounded(source: string): BoundedExpression {
  const raw = jsonata(source, {
    stack: EXPRESSION_EVALUATION_LIMITS.depth,
    sequence: EXPRESSION_EVALUATION_LIMITS.items,
    timeout: EXPRESSION_EVALUATION_LIMITS.wallClockMs,
    RegexEngine: LinearRegExp as unknown as RegExpConstructor,
  });
  classify(raw.ast());
  return {
    evaluate: (input, bindings, options) => evaluateBounded(raw, input, { ...options, ...(bindings === undefined ? {} : { bindings }) }),
    ast: () => raw.ast(),
  };
}

async function evaluateBounded(raw: jsonata.Expression, input: unknown, options: EvaluateOptions): Promise<unknown> {
  await sandboxReady;
  install(raw);
  const state = newState(options);
  const bindings: Record<string, unknown> = { ...options.bindings, [STATE_BINDING]: state };
  try {
    return await raw.evaluate(input, bindings);
  } catch (error) {
    throw normalizeError(error, state);
  }
}

/** JSONata's own guard errors and the engine's RangeErrors become ExpressionLimitError; the rest pass through. */
function normalizeError(error: unknown, state: EvaluationState): unknown {
  if (error instanceof ExpressionLimitError) return error;
  if (error instanceof UnsupportedRegexError) return new ExpressionLimitError('regex', error.message);
  const { code, message } = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : String(error);
  switch (code) {
    case 'D1011':
      return new ExpressionLimitError('depth', `the expression nests deeper than ${state.limits.depth} steps (deep recursion)`);
    case 'D1012':
      return new ExpressionLimitError('time', `the evaluation ran past the ${state.limits.wallClockMs} ms backstop`);
    case 'D2014':
    case 'D2015':
      return new ExpressionLimitError('items', `${text} (at most ${state.limits.items} items)`);
    default:
      break;
  }
  if (error instanceof RangeError) {
    if (/call stack/i.test(text)) return new ExpressionLimitError('depth', 'the expression nests too deeply (call stack exhausted)');
    if (/string length/i.test(text)) return new ExpressionLimitError('string', `a string exceeds the limit of ${state.limits.stringLength} characters`);
    if (/array length/i.test(text)) return new ExpressionLimitError('items', `an array exceeds the limit of ${state.limits.items} items`);
  }
  return error;
}
