import type { ExpressionContext, JsonValue, WorkflowNodeBase } from '@ussd/workflow-domain';
import type { ExecutionErrorInfo } from '../execution-events.js';
import type { Clock } from './clock.js';
import type { EngineResult, Prompt, SessionInfo } from './engine.types.js';
import type { HttpClient } from './http-client.js';

/**
 * What one attempt of a node produced. Errors are thrown (`NodeError`), so that retry and
 * catch treat them alike whichever handler raised them.
 */
export type NodeResult =
  /** Follow `next`; `output` becomes `nodes.<id>`, `vars` are merged into the variables. */
  | { readonly type: 'continue'; readonly next: string; readonly output: JsonValue; readonly vars?: Readonly<Record<string, JsonValue>> }
  /** Terminal: the execution completes with `output`; `message` is the final USSD text. */
  | { readonly type: 'complete'; readonly output: JsonValue; readonly message: string }
  /** Terminal on purpose (`fail` nodes): no retry or catch applies. */
  | { readonly type: 'fail'; readonly code: string; readonly message: string }
  /**
   * Waits for a reply or a time. `state` (JSON) is handed back to `resume`, possibly after a
   * process restart, so it must hold everything the handler needs.
   */
  | { readonly type: 'suspend'; readonly waitingFor: 'input' | 'time'; readonly resumeAt?: number; readonly prompt?: Prompt; readonly state: JsonValue };

/** What wakes a suspended node. A timer that comes early is a no-op for the node to re-suspend on. */
export type Wake = { readonly kind: 'input'; readonly text: string } | { readonly kind: 'timer' };

/** Runs a child execution for `subworkflow`; the child has its own id, events and limits. */
export interface SubworkflowRunner {
  start(ref: { readonly workflowId: string; readonly version?: number }, input: JsonValue, signal: AbortSignal): Promise<EngineResult>;
  resume(continuation: JsonValue, wake: Wake, signal: AbortSignal): Promise<EngineResult>;
  /** Ends a paused child as `canceled` (its parent attempt was abandoned). */
  cancel(continuation: JsonValue, reason: ExecutionErrorInfo): Promise<void>;
}

export interface NodeContext {
  /** Aborted when the attempt is abandoned: node timeout, execution timeout, cancel. */
  readonly signal: AbortSignal;
  /** 0 for the first attempt. */
  readonly attempt: number;
  readonly clock: Clock;
  readonly http: HttpClient;
  /** The expression input as it was before this node ran. */
  readonly scope: ExpressionContext;
  readonly session: SessionInfo | null;
  readonly maxInlineDelayMs: number;
  readonly subworkflows: SubworkflowRunner;
  /**
   * JSONata against `scope`; undefined when it yields nothing. Throws `expression.limit` past
   * EXPRESSION_EVALUATION_LIMITS, `expression.error` for any other failure.
   */
  evaluate(source: string, bindings?: Record<string, JsonValue>): Promise<JsonValue | undefined>;
  /** A `{{ }}` template against `scope`. Throws `expression.limit` or `expression.error`. */
  render(source: string): Promise<string>;
}

/** One per node type. Only handlers that suspend need `resume`. */
export interface NodeHandler<N extends WorkflowNodeBase = WorkflowNodeBase> {
  /** The attempt bound when the node sets no `timeoutMs` (http.request: 10 s). */
  readonly defaultTimeoutMs?: number;
  run(node: N, context: NodeContext): Promise<NodeResult>;
  resume?(node: N, context: NodeContext, wake: Wake, state: JsonValue): Promise<NodeResult>;
  /** A suspended attempt ends without being resumed (timeout, cancel): release what it holds. */
  abandon?(node: N, context: NodeContext, state: JsonValue, reason: ExecutionErrorInfo): Promise<void>;
}
