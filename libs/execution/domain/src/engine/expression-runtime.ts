import { compileExpression, NODE_ERROR_CODES, parseTemplate, type CompiledExpression, type ExpressionContext, type JsonValue, type ParsedTemplate } from '@ussd/workflow-domain';
import { toJson } from './json.js';
import { errorMessage, NodeError } from './node-error.js';

/**
 * Evaluates the spec's JSONata expressions and `{{ }}` templates against an
 * `ExpressionContext`. Parsing is cached by source text: a published spec's expressions are
 * parsed once per process, not once per execution. The compiled expressions carry
 * EXPRESSION_EVALUATION_LIMITS (set by `compileExpression`), so a runaway expression fails
 * with `expression.error` instead of holding the worker.
 */
const CACHE_LIMIT = 10_000;
const expressions = new Map<string, CompiledExpression>();
const templates = new Map<string, ParsedTemplate>();

function cached<T>(cache: Map<string, T>, source: string, make: (source: string) => T): T {
  let entry = cache.get(source);
  if (entry === undefined) {
    // Crude but bounded: specs are few and long-lived, so a full reset is rare.
    if (cache.size >= CACHE_LIMIT) cache.clear();
    entry = make(source);
    cache.set(source, entry);
  }
  return entry;
}

const expressionError = (source: string, error: unknown) =>
  new NodeError(NODE_ERROR_CODES.expression, `expression ${JSON.stringify(clip(source))} failed: ${errorMessage(error)}`);

const clip = (source: string) => (source.length > 120 ? `${source.slice(0, 117)}...` : source);

/** The value as plain JSON; `undefined` (no match, absent) when JSONata produced nothing. */
export async function evaluateExpression(source: string, context: ExpressionContext, bindings?: Record<string, JsonValue>): Promise<JsonValue | undefined> {
  const compiled = cached(expressions, source, compileExpression);
  if (!compiled.ok) throw expressionError(source, compiled.message);
  try {
    return toJson(await compiled.expression.evaluate(context, bindings));
  } catch (error) {
    throw expressionError(source, error);
  }
}

/** Strings as they are, other values as JSON, nothing for null or undefined. */
export async function renderTemplate(source: string, context: ExpressionContext): Promise<string> {
  const parsed = cached(templates, source, parseTemplate);
  if (!parsed.ok) throw expressionError(source, parsed.message);
  let text = '';
  for (const part of parsed.parts) {
    if (part.kind === 'text') {
      text += part.text;
      continue;
    }
    let value: JsonValue | undefined;
    try {
      value = toJson(await part.expression.evaluate(context));
    } catch (error) {
      throw expressionError(part.source, error);
    }
    if (value === null || value === undefined) continue;
    text += typeof value === 'string' ? value : JSON.stringify(value);
  }
  return text;
}
