import { randomUUID } from 'node:crypto';
import { EXECUTION_ERROR_CODES, findRule, NODE_ERROR_CODES, retryDelayMs, type ExpressionContext, type JsonValue, type RetryRule, type WorkflowNodeBase } from '@ussd/workflow-domain';
import type { ExecutionErrorInfo, NodeFinishedPayload } from '../execution-events.js';
import type { Clock } from './clock.js';
import type { Continuation } from './continuation.js';
import type { EngineResult, PinnedWorkflow, SessionInfo } from './engine.types.js';
import { SinkFailure, type EventRecorder } from './event-recorder.js';
import { evaluateExpression, renderTemplate } from './expression-runtime.js';
import type { HttpClient } from './http-client.js';
import { normalizeResult } from './node-result.js';
import type { NodeContext, NodeHandler, NodeResult, SubworkflowRunner, Wake } from './node-handler.js';
import type { NodeHandlerRegistry } from './node-handler-registry.js';
import { ENGINE_ERROR_CODES, errorMessage, NodeError } from './node-error.js';
import { setOwn, toJson } from './json.js';
import { capValue } from './output-cap.js';
import { RunLimits } from './run-limits.js';

/** What every execution of one engine shares. */
export interface EngineServices {
  readonly clock: Clock;
  readonly http: HttpClient;
  readonly handlers: NodeHandlerRegistry;
  readonly outputCapBytes: number;
  readonly maxInlineDelayMs: number;
  readonly random: () => number;
  /** The runner `subworkflow` nodes of this execution use (children run at depth + 1). */
  subworkflowsFor(parent: RunState): SubworkflowRunner;
}

/** One execution's mutable state; a continuation is a snapshot of it. */
export interface RunState {
  readonly executionId: string;
  readonly workflow: PinnedWorkflow;
  readonly nodesById: ReadonlyMap<string, WorkflowNodeBase>;
  readonly environment: string;
  readonly trigger: Continuation['trigger'];
  readonly session: SessionInfo | null;
  readonly vars: Record<string, JsonValue>;
  readonly nodes: Record<string, JsonValue>;
  /** The values of the secrets the spec names, for expressions only; never in a continuation. */
  readonly secrets: Readonly<Record<string, string>>;
  steps: number;
  readonly startedAt: number;
  readonly deadline: number;
  readonly depth: number;
}

/** Where the loop is: a node about to run, or a suspended attempt being woken. */
export interface Cursor {
  nodeId: string;
  attempt: number;
  retryCounts: number[];
  suspended?: { readonly attemptStartedAt: number; readonly timeoutAt: number | null; readonly state: JsonValue; readonly wake: Wake } | undefined;
}

type AttemptEnd =
  | { readonly kind: 'result'; readonly result: Exclude<NodeResult, { type: 'suspend' }> }
  | { readonly kind: 'error'; readonly error: ExecutionErrorInfo }
  | { readonly kind: 'execution-timeout' }
  | { readonly kind: 'canceled' }
  /** Ended from outside while suspended (engine.cancel): canceled, or timed out (the session expired). */
  | { readonly kind: 'stopped'; readonly status: 'canceled' | 'timeout' | 'failed'; readonly error: ExecutionErrorInfo };

type Finish = { readonly status: 'completed'; readonly output: JsonValue; readonly message: string } | { readonly status: 'failed' | 'timeout' | 'canceled'; readonly error: ExecutionErrorInfo };

const MAX_DURATION_MS = 2_147_483_647;
const iso = (ms: number) => new Date(ms).toISOString();
/** ISO-8601 with microseconds (PostgreSQL keeps them), from a count of microseconds. */
const isoMicros = (us: number) => `${new Date(Math.floor(us / 1000)).toISOString().slice(0, -1)}${String(us % 1000).padStart(3, '0')}Z`;
const elapsed = (from: number, to: number) => Math.min(MAX_DURATION_MS, Math.max(0, Math.round(to - from)));

/**
 * Runs one execution from a cursor until it ends or pauses: the node loop, attempts bounded by
 * the node's and the execution's deadlines and the cancel signal, then retry, catch or the end.
 * `run` never throws: whatever happens, the caller gets a result and the sink gets (or was at
 * least offered) exactly one `execution.finished`.
 */
export class ExecutionRun {
  /**
   * Node attempts often start within the same millisecond; logs are read in executed_at order,
   * so each attempt gets a strictly later timestamp (microseconds are spare precision).
   */
  private lastExecutedAtUs = 0;

  private nextExecutedAt(startedAtMs: number): string {
    this.lastExecutedAtUs = Math.max(Math.round(startedAtMs) * 1000, this.lastExecutedAtUs + 1);
    return isoMicros(this.lastExecutedAtUs);
  }

  private finishing = false;
  private limits: RunLimits | undefined;

  constructor(
    private readonly services: EngineServices,
    private readonly state: RunState,
    private readonly events: EventRecorder,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async run(opening: () => Promise<void>, body: () => Promise<EngineResult>): Promise<EngineResult> {
    this.limits = new RunLimits(this.services.clock, this.state.deadline, this.signal);
    try {
      await opening();
      return await body();
    } catch (error) {
      const info =
        error instanceof SinkFailure
          ? { code: ENGINE_ERROR_CODES.eventsUnavailable, message: error.message }
          : { code: ENGINE_ERROR_CODES.internal, message: `engine error: ${errorMessage(error)}` };
      if (this.finishing) return { status: 'failed', error: info };
      return await this.finish({ status: 'failed', error: info });
    } finally {
      this.limits.dispose();
    }
  }

  private get runLimits(): RunLimits {
    if (this.limits === undefined) throw new Error('ExecutionRun used outside run()');
    return this.limits;
  }

  /** Ends the execution: one `execution.finished`, whose failure turns the result into `events.unavailable`. */
  async finish(given: Finish): Promise<EngineResult> {
    this.finishing = true;
    // A caller's deadline (the signal aborted with a TimeoutError) ends the execution as timeout.
    const end: Finish = given.status === 'canceled' && this.abortedByDeadline() ? { status: 'timeout', error: given.error } : given;
    const now = this.services.clock.now();
    const output = end.status === 'completed' ? end.output : null;
    try {
      await this.events.emit('execution.finished', {
        status: end.status,
        output: capValue(output, this.services.outputCapBytes).value,
        error: end.status === 'completed' ? null : this.capError(end.error),
        completedAt: iso(now),
        durationMs: elapsed(this.state.startedAt, now),
      });
    } catch (error) {
      return { status: 'failed', error: { code: ENGINE_ERROR_CODES.eventsUnavailable, message: `${errorMessage(error)} (the execution had ended as ${end.status})` } };
    }
    return end.status === 'completed' ? { status: 'completed', output: end.output, message: end.message } : { status: end.status, error: end.error };
  }

  async loop(cursor: Cursor): Promise<EngineResult> {
    const { settings } = this.state.workflow.spec;
    for (;;) {
      const node = this.state.nodesById.get(cursor.nodeId);
      if (node === undefined) return this.finish({ status: 'failed', error: { code: ENGINE_ERROR_CODES.invalidSpec, message: `no node '${cursor.nodeId}' in the workflow` } });
      const handler = this.services.handlers.get(node.type);
      if (handler === undefined) return this.finish({ status: 'failed', error: { code: ENGINE_ERROR_CODES.invalidSpec, message: `no handler for node type '${node.type}'`, nodeId: node.id } });

      const suspended = cursor.suspended;
      cursor.suspended = undefined;
      let attemptStartedAt: number;
      let timeoutAt: number | null;
      let end: AttemptEnd | { kind: 'suspend'; result: Extract<NodeResult, { type: 'suspend' }> };
      if (suspended !== undefined) {
        ({ attemptStartedAt, timeoutAt } = suspended);
        const expired = this.expired(node, attemptStartedAt, timeoutAt);
        if (expired !== undefined) {
          end = expired;
          await this.abandon(node, handler, cursor.attempt, suspended.state, this.endError(node, expired));
        } else {
          end = await this.attempt(node, cursor.attempt, attemptStartedAt, timeoutAt, (context) => {
            if (handler.resume === undefined) throw new NodeError(ENGINE_ERROR_CODES.nodeInternal, `node type '${node.type}' cannot resume`);
            return handler.resume(node, context, suspended.wake, suspended.state);
          });
        }
      } else {
        const limit = this.runLimits.passed();
        if (limit === 'canceled') return this.finish({ status: 'canceled', error: this.canceledError(node) });
        if (limit !== undefined) return this.finish({ status: 'timeout', error: this.executionTimeoutError(node) });
        if (this.state.steps >= settings.maxSteps) {
          return this.finish({
            status: 'failed',
            error: { code: EXECUTION_ERROR_CODES.maxSteps, message: `the execution reached its limit of ${settings.maxSteps} node runs (settings.maxSteps) at node '${node.id}'`, nodeId: node.id },
          });
        }
        this.state.steps += 1;
        attemptStartedAt = this.services.clock.now();
        const timeoutMs = node.timeoutMs ?? handler.defaultTimeoutMs;
        timeoutAt = timeoutMs === undefined ? null : attemptStartedAt + timeoutMs;
        end = await this.attempt(node, cursor.attempt, attemptStartedAt, timeoutAt, (context) => handler.run(node, context));
      }

      if (end.kind === 'suspend') return this.pause(node, cursor, attemptStartedAt, timeoutAt, end.result);
      await this.nodeFinished(node, cursor.attempt, attemptStartedAt, end);

      switch (end.kind) {
        case 'result': {
          const result = end.result;
          switch (result.type) {
            case 'continue':
              setOwn(this.state.nodes, node.id, result.output);
              for (const [name, value] of Object.entries(result.vars ?? {})) setOwn(this.state.vars, name, value);
              cursor = { nodeId: result.next, attempt: 0, retryCounts: [] };
              continue;
            case 'complete':
              setOwn(this.state.nodes, node.id, result.output);
              return this.finish({ status: 'completed', output: result.output, message: result.message });
            case 'fail':
              return this.finish({ status: 'failed', error: { code: result.code, message: result.message, nodeId: node.id } });
          }
          break;
        }
        case 'execution-timeout':
          return this.finish({ status: 'timeout', error: this.executionTimeoutError(node) });
        case 'canceled':
          return this.finish({ status: 'canceled', error: this.canceledError(node) });
        case 'stopped':
          return this.finish({ status: end.status, error: end.error });
        case 'error': {
          const next = await this.afterError(node, cursor, end.error);
          if ('status' in next) return this.finish(next);
          cursor = next;
        }
      }
    }
  }

  /** Retry, then catch, then the end: docs/workflow-spec.md, "Policies". */
  private async afterError(node: WorkflowNodeBase, cursor: Cursor, error: ExecutionErrorInfo): Promise<Cursor | Finish> {
    const rule = findRule<RetryRule>(node.retry, error.code);
    if (rule !== undefined && node.retry !== undefined) {
      const index = node.retry.indexOf(rule);
      const counts = [...cursor.retryCounts];
      while (counts.length <= index) counts.push(0);
      counts[index] = (counts[index] ?? 0) + 1;
      const matched = counts[index] ?? 1;
      if (matched < rule.maxAttempts) {
        const delay = retryDelayMs(rule, matched, this.services.random);
        const waited = await this.runLimits.race((signal) => this.services.clock.sleep(delay, signal));
        if (waited.kind === 'canceled') return { status: 'canceled', error: this.canceledError(node) };
        if (waited.kind === 'execution-timeout') return { status: 'timeout', error: this.executionTimeoutError(node) };
        return { nodeId: node.id, attempt: cursor.attempt + 1, retryCounts: counts };
      }
    }
    const handler = findRule(node.catch, error.code);
    if (handler !== undefined) {
      if (handler.resultVariable !== undefined) setOwn(this.state.vars, handler.resultVariable, { code: error.code, message: error.message });
      return { nodeId: handler.next, attempt: 0, retryCounts: [] };
    }
    return { status: error.code === NODE_ERROR_CODES.timeout ? 'timeout' : 'failed', error };
  }

  private async attempt(
    node: WorkflowNodeBase,
    attempt: number,
    attemptStartedAt: number,
    timeoutAt: number | null,
    invoke: (context: NodeContext) => Promise<NodeResult>,
  ): Promise<AttemptEnd | { kind: 'suspend'; result: Extract<NodeResult, { type: 'suspend' }> }> {
    const end = await this.runLimits.race(async (signal) => normalizeResult(await invoke(this.context(attempt, signal))), timeoutAt);
    switch (end.kind) {
      case 'done':
        return end.value.type === 'suspend' ? { kind: 'suspend', result: end.value } : { kind: 'result', result: end.value };
      case 'threw':
        return { kind: 'error', error: toErrorInfo(end.error, node.id) };
      case 'node-timeout':
        return { kind: 'error', error: this.nodeTimeoutError(node, attemptStartedAt, timeoutAt) };
      case 'execution-timeout':
      case 'canceled':
        return { kind: end.kind };
    }
  }

  /** Checked before waking a suspended attempt: the wait may have outlived a limit. */
  private expired(node: WorkflowNodeBase, attemptStartedAt: number, timeoutAt: number | null): AttemptEnd | undefined {
    const limit = this.runLimits.passed(timeoutAt);
    if (limit === 'node-timeout') return { kind: 'error', error: this.nodeTimeoutError(node, attemptStartedAt, timeoutAt) };
    return limit === undefined ? undefined : { kind: limit };
  }

  /** Lets a suspended attempt that will never be resumed release what it holds (a paused child). */
  private async abandon(node: WorkflowNodeBase, handler: NodeHandler, attempt: number, state: JsonValue, reason: ExecutionErrorInfo): Promise<void> {
    if (handler.abandon === undefined) return;
    try {
      await handler.abandon(node, this.context(attempt, new AbortController().signal), state, reason);
    } catch {
      // Best effort: the parent's own end must not depend on a child's cleanup.
    }
  }

  private async pause(node: WorkflowNodeBase, cursor: Cursor, attemptStartedAt: number, timeoutAt: number | null, result: Extract<NodeResult, { type: 'suspend' }>): Promise<EngineResult> {
    // The earliest moment something will happen without a reply: the delay's end, the node's timeout, the deadline.
    const resumeAt = Math.min(this.state.deadline, timeoutAt ?? Infinity, result.resumeAt ?? Infinity);
    const continuation: Continuation = {
      v: 1,
      executionId: this.state.executionId,
      workflowId: this.state.workflow.workflowId,
      version: this.state.workflow.version,
      environment: this.state.environment,
      trigger: this.state.trigger,
      session: this.state.session,
      vars: { ...this.state.vars },
      nodes: { ...this.state.nodes },
      steps: this.state.steps,
      startedAt: iso(this.state.startedAt),
      deadlineAt: iso(this.state.deadline),
      depth: this.state.depth,
      waitingFor: result.waitingFor,
      resumeAt: iso(resumeAt),
      node: {
        id: node.id,
        type: node.type,
        attempt: cursor.attempt,
        attemptStartedAt: iso(attemptStartedAt),
        timeoutAt: timeoutAt === null ? null : iso(timeoutAt),
        retryCounts: [...cursor.retryCounts],
        state: result.state,
      },
    };
    await this.events.emit('execution.paused', { nodeId: node.id, waitingFor: result.waitingFor, resumeAt: iso(resumeAt) });
    return { status: 'paused', waitingFor: result.waitingFor, resumeAt: iso(resumeAt), ...(result.prompt === undefined ? {} : { prompt: result.prompt }), continuation };
  }

  /** Ends a paused execution without waking it (engine.cancel): its attempt, then the execution. */
  async cancelSuspended(node: WorkflowNodeBase, cursor: Cursor, error: ExecutionErrorInfo, status: 'canceled' | 'timeout' | 'failed' = 'canceled'): Promise<EngineResult> {
    const suspended = cursor.suspended;
    if (suspended === undefined) return this.finish({ status, error });
    await this.nodeFinished(node, cursor.attempt, suspended.attemptStartedAt, { kind: 'stopped', status, error });
    const handler = this.services.handlers.get(node.type);
    if (handler !== undefined) await this.abandon(node, handler, cursor.attempt, suspended.state, error);
    return this.finish({ status, error });
  }

  private async nodeFinished(node: WorkflowNodeBase, attempt: number, startedAt: number, end: AttemptEnd, reason?: ExecutionErrorInfo): Promise<void> {
    let status: NodeFinishedPayload['status'] = 'completed';
    let output: JsonValue = null;
    let error: ExecutionErrorInfo | null = null;
    switch (end.kind) {
      case 'result':
        if (end.result.type === 'fail') {
          status = 'failed';
          error = { code: end.result.code, message: end.result.message, nodeId: node.id };
        } else {
          output = end.result.output;
        }
        break;
      case 'error':
        status = end.error.code === NODE_ERROR_CODES.timeout ? 'timeout' : 'failed';
        error = end.error;
        break;
      case 'execution-timeout':
        status = 'timeout';
        error = this.executionTimeoutError(node);
        break;
      case 'canceled':
        status = reason === undefined && this.abortedByDeadline() ? 'timeout' : 'canceled';
        error = reason ?? this.canceledError(node);
        break;
      case 'stopped':
        status = end.status;
        error = end.error;
        break;
    }
    const capped = capValue(output, this.services.outputCapBytes);
    await this.events.emit('node.finished', {
      nodeExecutionId: randomUUID(),
      nodeId: node.id,
      nodeType: node.type,
      status,
      output: capped.value,
      error: error === null ? null : this.capError(error),
      durationMs: elapsed(startedAt, this.services.clock.now()),
      executedAt: this.nextExecutedAt(startedAt),
      attempt,
      ...(capped.truncated === undefined ? {} : { outputTruncated: capped.truncated }),
    });
  }

  private context(attempt: number, signal: AbortSignal): NodeContext {
    const { state, services } = this;
    // Long evaluations pause on the engine's clock, so a test clock sees a timer, not idleness.
    const control = { signal, pause: () => services.clock.sleep(0) };
    const scope: ExpressionContext = {
      trigger: state.trigger.payload,
      vars: state.vars,
      nodes: state.nodes,
      session: state.session,
      secrets: state.secrets,
      execution: { id: state.executionId, workflowId: state.workflow.workflowId, version: state.workflow.version, environment: state.environment },
    };
    return {
      signal,
      attempt,
      clock: services.clock,
      http: services.http,
      scope,
      session: state.session,
      maxInlineDelayMs: services.maxInlineDelayMs,
      subworkflows: services.subworkflowsFor(state),
      evaluate: (source, bindings) => evaluateExpression(source, scope, bindings, control),
      render: (source) => renderTemplate(source, scope, control),
    };
  }

  private endError(node: WorkflowNodeBase, end: AttemptEnd): ExecutionErrorInfo {
    switch (end.kind) {
      case 'error':
        return end.error;
      case 'execution-timeout':
        return this.executionTimeoutError(node);
      case 'canceled':
        return this.canceledError(node);
      case 'stopped':
        return end.error;
      case 'result':
        return { code: ENGINE_ERROR_CODES.internal, message: 'not an error', nodeId: node.id };
    }
  }

  private executionTimeoutError(node: WorkflowNodeBase): ExecutionErrorInfo {
    const limit = this.state.workflow.spec.settings.executionTimeoutMs;
    return { code: EXECUTION_ERROR_CODES.timeout, message: `the execution exceeded its ${limit} ms limit (settings.executionTimeoutMs) at node '${node.id}'`, nodeId: node.id };
  }

  private nodeTimeoutError(node: WorkflowNodeBase, attemptStartedAt: number, timeoutAt: number | null): ExecutionErrorInfo {
    const limit = timeoutAt === null ? 0 : timeoutAt - attemptStartedAt;
    return { code: NODE_ERROR_CODES.timeout, message: `node '${node.id}' exceeded its ${limit} ms timeout`, nodeId: node.id };
  }

  /** The signal was aborted with a TimeoutError (`AbortSignal.timeout`, a hop deadline). */
  private abortedByDeadline(): boolean {
    const reason: unknown = this.signal?.aborted === true ? this.signal.reason : undefined;
    return typeof reason === 'object' && reason !== null && (reason as { name?: unknown }).name === 'TimeoutError';
  }

  private canceledError(node: WorkflowNodeBase): ExecutionErrorInfo {
    const reason: unknown = this.signal?.reason;
    if (this.abortedByDeadline()) {
      const message = (reason as { message?: unknown }).message;
      const detail = typeof message === 'string' && message !== '' ? `: ${message}` : '';
      return { code: EXECUTION_ERROR_CODES.timeout, message: `the caller's deadline passed at node '${node.id}'${detail}`, nodeId: node.id };
    }
    const why = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : typeof reason === 'string' ? `: ${reason}` : '';
    return { code: ENGINE_ERROR_CODES.canceled, message: `the execution was canceled at node '${node.id}'${why}`, nodeId: node.id };
  }

  /** Error details can carry a response body: they obey the output cap too. */
  private capError(error: ExecutionErrorInfo): ExecutionErrorInfo {
    if (error.details === undefined) return error;
    return { ...error, details: capValue(error.details, this.services.outputCapBytes).value };
  }
}

function toErrorInfo(error: unknown, nodeId: string): ExecutionErrorInfo {
  if (error instanceof NodeError) {
    let details: JsonValue | undefined;
    try {
      details = toJson(error.details);
    } catch {
      details = 'details that are not JSON were dropped';
    }
    return { code: error.code, message: error.message, nodeId, ...(details === undefined ? {} : { details }) };
  }
  return { code: ENGINE_ERROR_CODES.nodeInternal, message: `the node handler threw: ${errorMessage(error)}`, nodeId };
}
