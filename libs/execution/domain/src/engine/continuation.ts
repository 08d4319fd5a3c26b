import type { JsonValue } from '@ussd/workflow-domain';
import type { SessionInfo } from './engine.types.js';
import { isRecord } from './json.js';

/**
 * A paused execution, as plain JSON: store it anywhere (the session's `data` in Redis), resume
 * it in any process. It names the pinned workflow version; resume refuses any other spec.
 * Times are ISO strings so an operator can read them. Bump `v` on an incompatible change.
 */
export interface Continuation {
  readonly v: 1;
  readonly executionId: string;
  readonly workflowId: string;
  readonly version: number;
  readonly environment: string;
  readonly trigger: { readonly type: 'http' | 'ussd' | 'subworkflow'; readonly payload: JsonValue };
  readonly session: SessionInfo | null;
  readonly vars: Readonly<Record<string, JsonValue>>;
  readonly nodes: Readonly<Record<string, JsonValue>>;
  /** Node attempts so far, against `settings.maxSteps`. */
  readonly steps: number;
  readonly startedAt: string;
  /** startedAt + executionTimeoutMs: the bound holds across pauses. */
  readonly deadlineAt: string;
  /** 0 for a top-level execution; n for a subworkflow n levels down. */
  readonly depth: number;
  readonly waitingFor: 'input' | 'time';
  readonly resumeAt: string | null;
  /** The suspended attempt. */
  readonly node: {
    readonly id: string;
    /** Lets an execution be canceled (its events written) without its spec at hand. */
    readonly type: string;
    readonly attempt: number;
    readonly attemptStartedAt: string;
    /** attemptStartedAt + the node's timeoutMs, if it has one. */
    readonly timeoutAt: string | null;
    /** Errors matched per retry rule (by index) during this visit of the node. */
    readonly retryCounts: readonly number[];
    /** The handler's own state: invalid replies so far, a child's continuation, … */
    readonly state: JsonValue;
  };
}

const isString = (value: unknown, max = 255): value is string => typeof value === 'string' && value.length > 0 && value.length <= max;
const isIso = (value: unknown) => typeof value === 'string' && !Number.isNaN(Date.parse(value));
const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;

function sessionProblem(value: unknown): string | undefined {
  if (value === null) return undefined;
  if (!isRecord(value)) return 'session must be an object or null';
  for (const key of ['sessionId', 'msisdn', 'serviceCode', 'input'] as const) {
    if (typeof value[key] !== 'string') return `session.${key} must be a string`;
  }
  return undefined;
}

/**
 * Why `value` is not a usable continuation, or undefined. It may come back from storage
 * tampered with or from an older engine, so every field the engine reads is checked.
 */
export function continuationProblem(value: unknown): string | undefined {
  if (!isRecord(value)) return 'not an object';
  const c = value;
  if (c['v'] !== 1) return 'unsupported continuation version (v)';
  if (!isString(c['executionId'])) return 'executionId must be 1-255 characters';
  if (!isString(c['workflowId'])) return 'workflowId must be a string';
  if (!Number.isSafeInteger(c['version']) || (c['version'] as number) < 1) return 'version must be a positive integer';
  if (typeof c['environment'] !== 'string') return 'environment must be a string';
  const trigger = c['trigger'];
  if (!isRecord(trigger) || !['http', 'ussd', 'subworkflow'].includes(trigger['type'] as string) || !('payload' in trigger)) return 'trigger must be { type, payload }';
  const session = sessionProblem(c['session']);
  if (session !== undefined) return session;
  if (!isRecord(c['vars'])) return 'vars must be an object';
  if (!isRecord(c['nodes'])) return 'nodes must be an object';
  if (!isCount(c['steps'])) return 'steps must be a non-negative integer';
  if (!isIso(c['startedAt']) || !isIso(c['deadlineAt'])) return 'startedAt and deadlineAt must be ISO timestamps';
  if (!isCount(c['depth'])) return 'depth must be a non-negative integer';
  if (c['waitingFor'] !== 'input' && c['waitingFor'] !== 'time') return "waitingFor must be 'input' or 'time'";
  if (c['resumeAt'] !== null && !isIso(c['resumeAt'])) return 'resumeAt must be an ISO timestamp or null';
  const node = c['node'];
  if (!isRecord(node)) return 'node must be an object';
  if (!isString(node['id'])) return 'node.id must be a string';
  if (!isString(node['type'])) return 'node.type must be a string';
  if (!isCount(node['attempt'])) return 'node.attempt must be a non-negative integer';
  if (!isIso(node['attemptStartedAt'])) return 'node.attemptStartedAt must be an ISO timestamp';
  if (node['timeoutAt'] !== null && !isIso(node['timeoutAt'])) return 'node.timeoutAt must be an ISO timestamp or null';
  if (!Array.isArray(node['retryCounts']) || !node['retryCounts'].every(isCount)) return 'node.retryCounts must be a list of counts';
  if (!('state' in node)) return 'node.state is missing';
  return undefined;
}
