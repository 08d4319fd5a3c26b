import { RE2JS } from 're2js';

/**
 * Regular expressions run on RE2 (the `re2js` port): matching takes time linear in the input,
 * whatever the pattern, so `/^(a+)+$/` cannot hold the event loop. RE2 has no backreferences
 * and no lookaround; a pattern that needs them is refused when the spec is validated.
 *
 * - `maxProgramSize`: compiled RE2 instructions a pattern may have (`[0-9]{2,4}` is 12). The
 *   cost of a search grows with it, and RE2 itself would accept millions.
 * - `maxCacheEntries`: compiled patterns kept per process (specs are few and long-lived).
 */
export const REGEX_LIMITS = { maxProgramSize: 5_000, maxCacheEntries: 1_000 } as const;

export interface RegexFlags {
  readonly ignoreCase?: boolean;
  readonly multiline?: boolean;
}

export type RegexCheck = { readonly ok: true } | { readonly ok: false; readonly message: string };

/** A pattern the linear-time engine will not run; the message says why. */
export class UnsupportedRegexError extends Error {
  override readonly name = 'UnsupportedRegexError';
}

/**
 * Called before every search with the characters left to search and the program size, so an
 * evaluation can charge the search to its work budget (and refuse it) before it runs.
 */
export type RegexMeter = (characters: number, programSize: number) => void;

const compiled = new Map<string, RE2JS | UnsupportedRegexError>();

/** Compiles (once per process) or throws UnsupportedRegexError. */
export function compileLinearRegex(source: string, flags: RegexFlags = {}): RE2JS {
  const key = `${flags.ignoreCase === true ? 'i' : ''}${flags.multiline === true ? 'm' : ''}/${source}`;
  let entry = compiled.get(key);
  if (entry === undefined) {
    if (compiled.size >= REGEX_LIMITS.maxCacheEntries) compiled.clear();
    entry = compileUncached(source, flags);
    compiled.set(key, entry);
  }
  if (entry instanceof UnsupportedRegexError) throw entry;
  return entry;
}

/** For the validator: does the pattern run on the linear-time engine? */
export function checkRegex(source: string, flags: RegexFlags = {}): RegexCheck {
  try {
    compileLinearRegex(source, flags);
    return { ok: true };
  } catch (error) {
    if (error instanceof UnsupportedRegexError) return { ok: false, message: error.message };
    throw error;
  }
}

/** A tester for `ussd.input` patterns: the whole answer must match. */
export function wholeMatchTester(pattern: string): (value: string) => boolean {
  const program = compileLinearRegex(pattern);
  return (value) => program.testExact(value);
}

function compileUncached(source: string, flags: RegexFlags): RE2JS | UnsupportedRegexError {
  const estimate = estimateProgramSize(source);
  if (estimate > REGEX_LIMITS.maxProgramSize) {
    return new UnsupportedRegexError(`pattern too large: its repetitions expand to about ${estimate} steps (at most ${REGEX_LIMITS.maxProgramSize})`);
  }
  let program: RE2JS;
  try {
    program = RE2JS.compile(RE2JS.translateRegExp(source), (flags.ignoreCase === true ? RE2JS.CASE_INSENSITIVE : 0) | (flags.multiline === true ? RE2JS.MULTILINE : 0));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return new UnsupportedRegexError(`pattern not supported by the linear-time (RE2) engine: ${reason}${hint(source)}`);
  }
  const size = program.programSize();
  if (size > REGEX_LIMITS.maxProgramSize) {
    return new UnsupportedRegexError(`pattern too large: ${size} RE2 instructions (at most ${REGEX_LIMITS.maxProgramSize})`);
  }
  return program;
}

function hint(source: string): string {
  if (/\(\?<?[=!]/.test(source)) return ' (lookahead and lookbehind are not supported)';
  if (/\\[1-9]|\\k</.test(source)) return ' (backreferences are not supported)';
  return '';
}

/**
 * An upper estimate of the compiled size, computed on the text without compiling: atoms count
 * 1, a group the sum of its items, `x{n,m}` multiplies x by m (n + 1 when unbounded). RE2's
 * parser only refuses past 3.3 million instructions, and compiling that many takes seconds, so
 * large repetitions are refused before RE2 sees them.
 */
export function estimateProgramSize(source: string): number {
  const groups: number[][] = [[]];
  let index = 0;
  const current = () => groups[groups.length - 1] as number[];
  const multiplyLast = (factor: number) => {
    const items = current();
    if (items.length > 0) items[items.length - 1] = (items[items.length - 1] as number) * factor;
  };
  while (index < source.length) {
    const char = source[index] as string;
    if (char === '\\') {
      index += escapeLength(source, index);
      current().push(1);
    } else if (char === '[') {
      index = classEnd(source, index);
      current().push(1);
    } else if (char === '(') {
      groups.push([]);
      index += 1;
    } else if (char === ')') {
      const closed = groups.length > 1 ? (groups.pop() as number[]) : [];
      current().push(Math.max(1, sum(closed)));
      index += 1;
    } else if (char === '{') {
      const quantifier = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(index, index + 24));
      if (quantifier === null) {
        current().push(1);
        index += 1;
      } else {
        const min = Number(quantifier[1]);
        const max = quantifier[2] === undefined ? min : quantifier[3] === '' ? min + 1 : Number(quantifier[3]);
        multiplyLast(Math.max(1, min, max));
        index += quantifier[0].length;
      }
    } else if (char === '*' || char === '+' || char === '?') {
      multiplyLast(2);
      index += 1;
    } else {
      // '|', '^', '$', '.', literals: one step each is generous enough.
      current().push(1);
      index += 1;
    }
    if (sum(current()) > 10 * REGEX_LIMITS.maxProgramSize) return sum(current());
  }
  while (groups.length > 1) {
    const closed = groups.pop() as number[];
    current().push(sum(closed));
  }
  return sum(current());
}

function escapeLength(source: string, at: number): number {
  const next = source[at + 1];
  if ((next === 'u' || next === 'x' || next === 'p' || next === 'P') && source[at + 2] === '{') {
    const close = source.indexOf('}', at + 3);
    return close < 0 ? 2 : close - at + 1;
  }
  return 2;
}

function classEnd(source: string, at: number): number {
  let index = at + 1;
  if (source[index] === '^') index += 1;
  while (index < source.length && source[index] !== ']') index += source[index] === '\\' ? 2 : 1;
  return index + 1;
}

function sum(values: readonly number[]): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

/** The slice of RegExp that JSONata's regex support uses (`exec` with `lastIndex`, global). */
interface RegexMatch extends Array<string | undefined> {
  index: number;
  input: string;
}

/**
 * A RegExp look-alike over RE2 for JSONata's `RegexEngine` option. JSONata builds its regex
 * literals with the native RegExp (which checks the syntax), then hands them to this
 * constructor; `exec` honours `lastIndex` like a global RegExp.
 */
export class LinearRegExp {
  lastIndex = 0;
  readonly source: string;
  readonly flags: string;
  readonly global = true;
  private readonly program: RE2JS;
  private readonly meter: RegexMeter | undefined;

  constructor(pattern: RegExp | string, flags?: string, meter?: RegexMeter) {
    this.source = typeof pattern === 'string' ? pattern : pattern.source;
    this.flags = typeof pattern === 'string' ? (flags ?? '') : pattern.flags;
    this.program = compileLinearRegex(this.source, { ignoreCase: this.flags.includes('i'), multiline: this.flags.includes('m') });
    this.meter = meter;
  }

  exec(input: string): RegexMatch | null {
    const from = this.lastIndex;
    if (from > input.length) {
      this.lastIndex = 0;
      return null;
    }
    this.meter?.(input.length - from, this.program.programSize());
    const matcher = this.program.matcher(input);
    if (!matcher.find(from)) {
      this.lastIndex = 0;
      return null;
    }
    const match = [matcher.group(0) ?? ''] as RegexMatch;
    for (let group = 1; group <= matcher.groupCount(); group += 1) match.push(matcher.group(group) ?? undefined); // null (did not take part) reads as undefined, as in RegExp
    match.index = matcher.start(0);
    match.input = input;
    this.lastIndex = matcher.end(0);
    return match;
  }

  test(input: string): boolean {
    return this.exec(input) !== null;
  }
}
