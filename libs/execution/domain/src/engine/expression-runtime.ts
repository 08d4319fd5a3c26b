import {
  compileExpression,
  EXPRESSION_EVALUATION_LIMITS,
  ExpressionLimitError,
  NODE_ERROR_CODES,
  parseTemplate,
  type CompiledExpression,
  type EvaluateOptions,
  type ExpressionContext,
  type JsonValue,
  type ParsedTemplate,
} from '@ussd/workflow-domain';
import { toJson } from './json.js';
import { errorMessage, NodeError } from './node-error.js';

/**
 * Evaluates the spec's JSONata expressions and `{{ }}` templates against an
 * `ExpressionContext`. Parsing is cached by source text: a published spec's expressions are
 * parsed once per process, not once per execution. Compiled expressions evaluate within
 * EXPRESSION_EVALUATION_LIMITS (work, depth, sizes; regular expressions on RE2): a breach fails
 * the node with `expression.limit`, any other failure with `expression.error`. Once the control's
 * `signal` aborts (the node timed out, the execution was canceled) the evaluation stops at its
 * next step; `pause` is how a long evaluation lets the event loop turn (the engine's clock).
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

function expressionError(source: string, error: unknown): NodeError {
  const what = `expression ${JSON.stringify(clip(source))}`;
  if (error instanceof ExpressionLimitError) {
    return new NodeError(NODE_ERROR_CODES.expressionLimit, `${what} stopped at a limit (${error.limit}): ${error.message}`, { limit: error.limit });
  }
  return new NodeError(NODE_ERROR_CODES.expression, `${what} failed: ${errorMessage(error)}`);
}

const clip = (source: string) => (source.length > 120 ? `${source.slice(0, 117)}...` : source);

/** The value as plain JSON; `undefined` (no match, absent) when JSONata produced nothing. */
/** How evaluations stop and pause: the node's abort signal, and the engine clock's `sleep(0)`. */
export type EvaluationControl = Pick<EvaluateOptions, 'signal' | 'pause'>;

export async function evaluateExpression(
  source: string,
  context: ExpressionContext,
  bindings?: Record<string, JsonValue>,
  control: EvaluationControl = {},
): Promise<JsonValue | undefined> {
  const compiled = cached(expressions, source, compileExpression);
  if (!compiled.ok) throw expressionError(source, compiled.message);
  try {
    return toJson(await compiled.expression.evaluate(context, bindings, control));
  } catch (error) {
    throw expressionError(source, error);
  }
}

/**
 * Strings as they are, other values as JSON, nothing for null or undefined. Each placeholder
 * is one evaluation; the rendered text is held to the string limit as a whole.
 */
export async function renderTemplate(source: string, context: ExpressionContext, control: EvaluationControl = {}): Promise<string> {
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
      value = toJson(await part.expression.evaluate(context, undefined, control));
    } catch (error) {
      throw expressionError(part.source, error);
    }
    if (value === null || value === undefined) continue;
    text += typeof value === 'string' ? value : JSON.stringify(value);
    if (text.length > EXPRESSION_EVALUATION_LIMITS.stringLength) {
      throw expressionError(source, new ExpressionLimitError('string', `the rendered template passes ${EXPRESSION_EVALUATION_LIMITS.stringLength} characters`));
    }
  }
  return text;
}
