import type { ErrorPattern, Jitter, RetryRule } from './spec.types.js';

/** Step Functions' defaults, in milliseconds. */
export const RETRY_DEFAULTS = { intervalMs: 1000, backoffRate: 2, jitter: 'none' } as const satisfies {
  intervalMs: number;
  backoffRate: number;
  jitter: Jitter;
};

/** `*` matches every code, `http.*` every code starting with `http.`, anything else itself. */
export function errorMatches(pattern: ErrorPattern, code: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return code.startsWith(pattern.slice(0, -1));
  return pattern === code;
}

/** The first rule of a `retry` or `catch` list whose patterns match `code`; later rules never see it. */
export function findRule<T extends { readonly errors: readonly ErrorPattern[] }>(
  rules: readonly T[] | undefined,
  code: string,
): T | undefined {
  return rules?.find((rule) => rule.errors.some((pattern) => errorMatches(pattern, code)));
}

/**
 * Wait before retry number `retry` (1 = the first retry):
 * min(intervalMs * backoffRate^(retry-1), maxDelayMs), then jitter. `random` returns [0, 1).
 */
export function retryDelayMs(rule: RetryRule, retry: number, random: () => number = Math.random): number {
  const interval = rule.intervalMs ?? RETRY_DEFAULTS.intervalMs;
  const rate = rule.backoffRate ?? RETRY_DEFAULTS.backoffRate;
  const uncapped = interval * rate ** Math.max(0, retry - 1);
  const delay = Math.min(uncapped, rule.maxDelayMs ?? Number.POSITIVE_INFINITY);
  const jitter = rule.jitter ?? RETRY_DEFAULTS.jitter;
  switch (jitter) {
    case 'none':
      return Math.round(delay);
    case 'full':
      return Math.round(random() * delay);
    case 'equal':
      return Math.round(delay / 2 + random() * (delay / 2));
  }
}

/**
 * Error codes the engine raises on a node, for `retry` and `catch` to match. A `fail` node
 * raises its own code; a subworkflow node re-raises the code its child failed with.
 */
export const NODE_ERROR_CODES = {
  timeout: 'node.timeout',
  expression: 'expression.error',
  /** An expression hit a limit of its evaluation (work, depth, size, ...): EXPRESSION_EVALUATION_LIMITS. */
  expressionLimit: 'expression.limit',
  httpNetwork: 'http.network',
  /** Followed by the status, e.g. `http.status.503`; match a class with `http.status.5*`. */
  httpStatus: 'http.status.',
  invalidChoice: 'ussd.invalid_choice',
  invalidInput: 'ussd.invalid_input',
  subworkflowNotFound: 'subworkflow.not_found',
} as const;

/** Execution-wide limits: they end the execution (status `timeout` or `failed`) and no catch sees them. */
export const EXECUTION_ERROR_CODES = { timeout: 'execution.timeout', maxSteps: 'execution.max_steps' } as const;
