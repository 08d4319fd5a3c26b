import type jsonata from 'jsonata';
import { parseBounded, type BoundedExpression } from './expression-sandbox.js';
import { checkRegex } from './linear-regex.js';

export const EXPRESSION_MAX_LENGTH = 2000;
export const TEMPLATE_MAX_LENGTH = 2000;

/** Functions that would defeat static checking: `$eval` parses text the validator never sees. */
const FORBIDDEN_FUNCTIONS = new Set(['eval']);

/**
 * Why a source was refused: `expression` (it does not parse, or uses `$eval`) or `regex` (a
 * regular expression literal the linear-time engine cannot run). The validator reports it as
 * the error's code.
 */
export type ExpressionProblem = 'expression' | 'regex';

export type CompiledExpression =
  | { readonly ok: true; readonly source: string; readonly expression: BoundedExpression }
  | { readonly ok: false; readonly source: string; readonly message: string; readonly position?: number; readonly problem: ExpressionProblem };

export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'expression'; readonly source: string; readonly expression: BoundedExpression };

export type ParsedTemplate =
  | { readonly ok: true; readonly source: string; readonly parts: readonly TemplatePart[] }
  | { readonly ok: false; readonly source: string; readonly message: string; readonly position?: number; readonly problem: ExpressionProblem };

/**
 * Parses a JSONata expression (no evaluation) and checks what can be checked statically: no
 * `$eval`, and every regular expression literal runs on the linear-time engine. The returned
 * `expression` can only be evaluated within EXPRESSION_EVALUATION_LIMITS, with bounded
 * built-ins and no host functions: `expression.evaluate(context, bindings, { signal })`, where
 * context is an `ExpressionContext`. A breach rejects with an `ExpressionLimitError`.
 */
export function compileExpression(source: string): CompiledExpression {
  if (source.trim() === '') return { ok: false, source, message: 'empty expression', problem: 'expression' };
  if (source.length > EXPRESSION_MAX_LENGTH) {
    return { ok: false, source, message: `expression longer than ${EXPRESSION_MAX_LENGTH} characters`, problem: 'expression' };
  }
  let expression: BoundedExpression;
  try {
    expression = parseBounded(source);
  } catch (error) {
    return { ok: false, source, ...describeJsonataError(error), problem: 'expression' };
  }
  const problem = findStaticProblem(expression.ast());
  if (problem !== undefined) return { ok: false, source, ...problem };
  return { ok: true, source, expression };
}

/**
 * Splits `Hello {{ vars.name }}` into text and JSONata parts. An embedded expression ends at
 * the first `}}`; write `} }` inside one, and `{{ '{{' }}` for literal braces.
 */
export function parseTemplate(source: string): ParsedTemplate {
  if (source.length > TEMPLATE_MAX_LENGTH) {
    return { ok: false, source, message: `template longer than ${TEMPLATE_MAX_LENGTH} characters`, problem: 'expression' };
  }
  const parts: TemplatePart[] = [];
  let cursor = 0;
  while (cursor < source.length) {
    const open = source.indexOf('{{', cursor);
    if (open < 0) {
      parts.push({ kind: 'text', text: source.slice(cursor) });
      break;
    }
    if (open > cursor) parts.push({ kind: 'text', text: source.slice(cursor, open) });
    const close = source.indexOf('}}', open + 2);
    if (close < 0) return { ok: false, source, message: "unclosed '{{'", position: open, problem: 'expression' };
    const compiled = compileExpression(source.slice(open + 2, close));
    if (!compiled.ok) {
      const where = compiled.position === undefined ? open : open + 2 + compiled.position;
      return { ok: false, source, message: `in a {{ }} placeholder: ${compiled.message}`, position: where, problem: compiled.problem };
    }
    parts.push({ kind: 'expression', source: compiled.source, expression: compiled.expression });
    cursor = close + 2;
  }
  return { ok: true, source, parts };
}

function describeJsonataError(error: unknown): { message: string; position?: number } {
  if (typeof error === 'object' && error !== null) {
    const { message, position } = error as { message?: unknown; position?: unknown };
    return {
      message: typeof message === 'string' ? message : 'invalid expression',
      ...(typeof position === 'number' ? { position } : {}),
    };
  }
  return { message: 'invalid expression' };
}

type StaticProblem = { message: string; position?: number; problem: ExpressionProblem };

/**
 * Walks the parsed tree without recursion (its depth follows the source's nesting) and
 * remembers visited nodes, as the parser links some nodes to their ancestors. Reports the first
 * forbidden function or unsupported regular expression literal.
 */
function findStaticProblem(ast: jsonata.ExprNode): StaticProblem | undefined {
  const pending: unknown[] = [ast];
  const seen = new Set<unknown>();
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null || seen.has(value) || value instanceof RegExp) continue;
    seen.add(value);
    if (Array.isArray(value)) {
      pending.push(...(value as unknown[]));
      continue;
    }
    const node = value as { type?: unknown; value?: unknown; position?: unknown };
    const position = typeof node.position === 'number' ? { position: node.position } : {};
    if (node.type === 'variable' && typeof node.value === 'string' && FORBIDDEN_FUNCTIONS.has(node.value)) {
      return { message: `$${node.value} is not allowed in workflow expressions`, ...position, problem: 'expression' };
    }
    if (node.type === 'regex' && node.value instanceof RegExp) {
      const check = checkRegex(node.value.source, { ignoreCase: node.value.ignoreCase, multiline: node.value.multiline });
      if (!check.ok) return { message: `regular expression /${node.value.source}/: ${check.message}`, ...position, problem: 'regex' };
    }
    pending.push(...Object.values(value));
  }
  return undefined;
}
