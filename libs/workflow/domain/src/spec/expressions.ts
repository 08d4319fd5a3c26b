import jsonata from 'jsonata';

export const EXPRESSION_MAX_LENGTH = 2000;
export const TEMPLATE_MAX_LENGTH = 2000;

/**
 * Guardrails JSONata enforces while evaluating (ms of run time, call depth, sequence length),
 * so one runaway expression cannot hold a worker. A catastrophic regex is not interruptible;
 * inputs are short (USSD replies are at most 182 characters).
 */
export const EXPRESSION_EVALUATION_LIMITS = { timeout: 100, stack: 200, sequence: 10_000 } as const;

/** Functions that would defeat static checking: `$eval` parses text the validator never sees. */
const FORBIDDEN_FUNCTIONS = new Set(['eval']);

export type CompiledExpression =
  | { readonly ok: true; readonly source: string; readonly expression: jsonata.Expression }
  | { readonly ok: false; readonly source: string; readonly message: string; readonly position?: number };

export type TemplatePart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'expression'; readonly source: string; readonly expression: jsonata.Expression };

export type ParsedTemplate =
  | { readonly ok: true; readonly source: string; readonly parts: readonly TemplatePart[] }
  | { readonly ok: false; readonly source: string; readonly message: string; readonly position?: number };

/**
 * Parses a JSONata expression (no evaluation). The returned `expression` carries
 * EXPRESSION_EVALUATION_LIMITS and no host functions, so the engine evaluates it as is with
 * `expression.evaluate(context)`, where context is an `ExpressionContext`.
 */
export function compileExpression(source: string): CompiledExpression {
  if (source.trim() === '') return { ok: false, source, message: 'empty expression' };
  if (source.length > EXPRESSION_MAX_LENGTH) {
    return { ok: false, source, message: `expression longer than ${EXPRESSION_MAX_LENGTH} characters` };
  }
  let expression: jsonata.Expression;
  try {
    expression = jsonata(source, { ...EXPRESSION_EVALUATION_LIMITS });
  } catch (error) {
    return { ok: false, source, ...describeJsonataError(error) };
  }
  const forbidden = findForbiddenFunction(expression.ast());
  if (forbidden !== undefined) {
    return { ok: false, source, message: `$${forbidden.name} is not allowed in workflow expressions`, position: forbidden.position };
  }
  return { ok: true, source, expression };
}

/**
 * Splits `Hello {{ vars.name }}` into text and JSONata parts. An embedded expression ends at
 * the first `}}`; write `} }` inside one, and `{{ '{{' }}` for literal braces.
 */
export function parseTemplate(source: string): ParsedTemplate {
  if (source.length > TEMPLATE_MAX_LENGTH) {
    return { ok: false, source, message: `template longer than ${TEMPLATE_MAX_LENGTH} characters` };
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
    if (close < 0) return { ok: false, source, message: "unclosed '{{'", position: open };
    const compiled = compileExpression(source.slice(open + 2, close));
    if (!compiled.ok) {
      const where = compiled.position === undefined ? open : open + 2 + compiled.position;
      return { ok: false, source, message: `in a {{ }} placeholder: ${compiled.message}`, position: where };
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

/**
 * Walks the parsed tree without recursion (its depth follows the source's nesting) and
 * remembers visited nodes, as the parser links some nodes to their ancestors.
 */
function findForbiddenFunction(ast: unknown): { name: string; position?: number } | undefined {
  const pending: unknown[] = [ast];
  const seen = new Set<unknown>();
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    if (Array.isArray(value)) {
      pending.push(...(value as unknown[]));
    } else {
      const node = value as { type?: unknown; value?: unknown; position?: unknown };
      if (node.type === 'variable' && typeof node.value === 'string' && FORBIDDEN_FUNCTIONS.has(node.value)) {
        return { name: node.value, ...(typeof node.position === 'number' ? { position: node.position } : {}) };
      }
      pending.push(...Object.values(value));
    }
  }
  return undefined;
}
