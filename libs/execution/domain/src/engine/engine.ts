import { randomUUID } from 'node:crypto';
import { EXECUTION_ERROR_CODES, NODE_ERROR_CODES, secretNames, type JsonValue, type WorkflowNodeBase, type WorkflowSpec } from '@ussd/workflow-domain';
import type { ExecutionErrorInfo } from '../execution-events.js';
import { systemClock, type Clock } from './clock.js';
import { continuationProblem, type Continuation } from './continuation.js';
import { type EngineOptions, type EngineResult, type PinnedWorkflow, type ResumeInput, SecretResolutionError, type SessionInfo, type StartRequest, type SubworkflowResolver } from './engine.types.js';
import { EventRecorder } from './event-recorder.js';
import { ExecutionRun, type EngineServices, type RunState } from './execution-run.js';
import { createHttpClient } from './http-client.js';
import { isRecord, toJsonOrNull } from './json.js';
import type { SubworkflowRunner } from './node-handler.js';
import { NodeHandlerRegistry } from './node-handler-registry.js';
import { ENGINE_ERROR_CODES, errorMessage } from './node-error.js';
import { capValue, DEFAULT_OUTPUT_CAP_BYTES } from './output-cap.js';
import { entryFor, prepareSpec } from './prepared-spec.js';
import { SecretMask } from './secret-mask.js';

export const ENGINE_DEFAULTS = {
  outputCapBytes: DEFAULT_OUTPUT_CAP_BYTES,
  maxInlineDelayMs: 1_000,
  maxSubworkflowDepth: 8,
  http: { connectTimeoutMs: 5_000, maxResponseBytes: 1024 * 1024 },
} as const;

const DEFAULT_ENVIRONMENT = 'default';

/** A run's secrets: the values expressions see, and the mask every way out of the run goes through. */
interface RunSecrets {
  readonly values: Readonly<Record<string, string>>;
  readonly mask: SecretMask;
}

const NO_SECRETS: RunSecrets = { values: {}, mask: SecretMask.none };

/** Published specs never change: which secrets one names is worked out once per spec object. */
const namesBySpec = new WeakMap<object, readonly string[]>();

function namedSecrets(spec: WorkflowSpec): readonly string[] {
  let names = namesBySpec.get(spec);
  if (names === undefined) {
    names = secretNames(spec);
    namesBySpec.set(spec, names);
  }
  return names;
}

interface StartParams {
  readonly executionId: string;
  readonly workflow: PinnedWorkflow;
  readonly trigger: { readonly type: 'http' | 'ussd' | 'subworkflow'; readonly payload: unknown };
  readonly session: unknown;
  readonly environment: string;
  readonly depth: number;
  readonly signal: AbortSignal | undefined;
}

const failed = (code: string, message: string): EngineResult => ({ status: 'failed', error: { code, message } });

function readSession(value: unknown): SessionInfo | null {
  if (value === null || value === undefined) return null;
  const session = toJsonOrNull(value);
  if (!isRecord(session) || !['sessionId', 'msisdn', 'serviceCode', 'input'].every((key) => typeof session[key] === 'string')) {
    throw new Error('session must be { sessionId, msisdn, serviceCode, input }, all strings');
  }
  return { sessionId: session['sessionId'] as string, msisdn: session['msisdn'] as string, serviceCode: session['serviceCode'] as string, input: session['input'] as string };
}

/**
 * Runs published workflow versions: `start` for a trigger, `resume` for a paused execution,
 * `cancel` to end a paused one. None of them throws or rejects; every outcome is a result
 * (docs/execution-engine.md). One instance serves any number of concurrent executions.
 */
export class WorkflowEngine {
  private readonly services: EngineServices;
  private readonly options: EngineOptions;
  private readonly maxDepth: number;

  constructor(options: EngineOptions) {
    this.options = options;
    this.maxDepth = options.maxSubworkflowDepth ?? ENGINE_DEFAULTS.maxSubworkflowDepth;
    const clock: Clock = options.clock ?? systemClock;
    this.services = {
      clock,
      http: options.http ?? createHttpClient(ENGINE_DEFAULTS.http),
      handlers: options.handlers ?? NodeHandlerRegistry.withBuiltins(),
      outputCapBytes: options.outputCapBytes ?? ENGINE_DEFAULTS.outputCapBytes,
      maxInlineDelayMs: options.maxInlineDelayMs ?? ENGINE_DEFAULTS.maxInlineDelayMs,
      random: options.random ?? Math.random,
      subworkflowsFor: (parent) => this.subworkflowsFor(parent),
    };
  }

  async start(request: StartRequest): Promise<EngineResult> {
    try {
      return await this.startExecution({
        executionId: request.executionId,
        workflow: request.workflow,
        trigger: request.trigger,
        session: request.session,
        environment: request.environment ?? DEFAULT_ENVIRONMENT,
        depth: 0,
        signal: request.signal,
      });
    } catch (error) {
      return failed(ENGINE_ERROR_CODES.internal, `engine error: ${errorMessage(error)}`);
    }
  }

  /**
   * Continues a paused execution on `workflow`, which must be the version the continuation
   * names. A malformed or mismatched continuation is refused as a failed result without any
   * event: the stored execution is untouched and still resumable with the right spec.
   */
  async resume(workflow: PinnedWorkflow, continuation: Continuation, input: ResumeInput, signal?: AbortSignal): Promise<EngineResult> {
    try {
      return await this.resumeExecution(workflow, continuation, input, signal);
    } catch (error) {
      return failed(ENGINE_ERROR_CODES.internal, `engine error: ${errorMessage(error)}`);
    }
  }

  /**
   * Ends a paused execution as `canceled` (the subscriber hung up, an operator stopped it) or,
   * with `ending.status` 'timeout', as timed out (its USSD session expired): the waiting attempt
   * and the execution get their finished events, paused children are canceled.
   */
  async cancel(continuation: Continuation, reason = 'canceled while paused', ending: { status: 'canceled' | 'timeout'; code?: string } = { status: 'canceled' }): Promise<EngineResult> {
    try {
      return await this.cancelExecution(continuation, reason, ending);
    } catch (error) {
      return failed(ENGINE_ERROR_CODES.internal, `engine error: ${errorMessage(error)}`);
    }
  }

  private async startExecution(params: StartParams): Promise<EngineResult> {
    const { workflow, environment } = params;
    const clock = this.services.clock;
    const startedAt = clock.now();
    const prepared = prepareSpec(workflow.spec);
    const timeoutMs = prepared.ok ? workflow.spec.settings.executionTimeoutMs : 0;
    const deadline = startedAt + timeoutMs;

    let problem: ExecutionErrorInfo | undefined;
    let payload: JsonValue = null;
    let session: SessionInfo | null = null;
    try {
      payload = toJsonOrNull(params.trigger.payload);
      session = readSession(params.session);
    } catch (error) {
      problem = { code: ENGINE_ERROR_CODES.invalidTrigger, message: `the trigger cannot be used: ${errorMessage(error)}` };
    }
    const entry = prepared.ok ? entryFor(workflow.spec, params.trigger.type, session?.serviceCode, environment) : undefined;
    if (!prepared.ok) problem = { code: ENGINE_ERROR_CODES.invalidSpec, message: prepared.problem };
    else if (entry === undefined && problem === undefined) problem = { code: ENGINE_ERROR_CODES.invalidSpec, message: `the workflow has no ${params.trigger.type} trigger to enter by` };

    let secrets = NO_SECRETS;
    if (prepared.ok && problem === undefined) {
      const resolved = await this.secretsFor(workflow);
      if ('code' in resolved) problem = resolved;
      else secrets = resolved;
    }

    const state: RunState = {
      executionId: params.executionId,
      workflow,
      nodesById: prepared.ok ? prepared.nodesById : new Map(),
      environment,
      trigger: { type: params.trigger.type, payload },
      session,
      vars: { ...toVariables(prepared.ok ? workflow.spec.variables : undefined) },
      nodes: {},
      secrets: secrets.values,
      steps: 0,
      startedAt,
      deadline,
      depth: params.depth,
    };
    const events = this.recorder(params.executionId, workflow, secrets.mask);
    const run = new ExecutionRun(this.services, state, events, params.signal);
    return masked(secrets.mask, run.run(
      () =>
        events.emit('execution.started', {
          triggerPayload: capValue(payload, this.services.outputCapBytes).value,
          sessionId: session?.sessionId ?? null,
          startedAt: new Date(startedAt).toISOString(),
          deadlineAt: new Date(deadline).toISOString(),
        }),
      () => (problem !== undefined || entry === undefined ? run.finish({ status: 'failed', error: problem ?? { code: ENGINE_ERROR_CODES.invalidSpec, message: 'no entry' } }) : run.loop({ nodeId: entry, attempt: 0, retryCounts: [] })),
    ));
  }

  private async resumeExecution(workflow: PinnedWorkflow, value: unknown, input: ResumeInput, signal: AbortSignal | undefined): Promise<EngineResult> {
    const problem = continuationProblem(value);
    if (problem !== undefined) return failed(ENGINE_ERROR_CODES.invalidContinuation, `the continuation is not usable: ${problem}`);
    const continuation = value as Continuation;
    if (continuation.workflowId !== workflow.workflowId || continuation.version !== workflow.version) {
      return failed(
        ENGINE_ERROR_CODES.invalidContinuation,
        `the continuation belongs to workflow ${continuation.workflowId} version ${continuation.version}, not ${workflow.workflowId} version ${workflow.version}`,
      );
    }
    const wake = readWake(input);
    if (wake === undefined) return failed(ENGINE_ERROR_CODES.invalidContinuation, "resume input must be { kind: 'input', text } or { kind: 'timer' }");
    const prepared = prepareSpec(workflow.spec);
    if (!prepared.ok) return failed(ENGINE_ERROR_CODES.invalidSpec, prepared.problem);
    const node = prepared.nodesById.get(continuation.node.id);
    if (node === undefined || node.type !== continuation.node.type || this.services.handlers.get(node.type)?.resume === undefined) {
      return failed(ENGINE_ERROR_CODES.invalidContinuation, `the continuation waits at node '${continuation.node.id}', which cannot be resumed in this version`);
    }

    let session = continuation.session;
    if (wake.kind === 'input') {
      try {
        session = input.kind === 'input' && input.session !== undefined ? readSession(input.session) : session === null ? null : { ...session, input: wake.text };
      } catch (error) {
        return failed(ENGINE_ERROR_CODES.invalidContinuation, errorMessage(error));
      }
    }
    // Read again on every resume: values are never in a continuation, and may have changed.
    const resolved = await this.secretsFor(workflow);
    const secrets = 'code' in resolved ? NO_SECRETS : resolved;
    const state = this.stateFrom(workflow, prepared.nodesById, continuation, session, secrets.values);
    const events = this.recorder(continuation.executionId, workflow, secrets.mask);
    const run = new ExecutionRun(this.services, state, events, signal);
    const cursor = {
      nodeId: node.id,
      attempt: continuation.node.attempt,
      retryCounts: [...continuation.node.retryCounts],
      suspended: {
        attemptStartedAt: Date.parse(continuation.node.attemptStartedAt),
        timeoutAt: continuation.node.timeoutAt === null ? null : Date.parse(continuation.node.timeoutAt),
        state: continuation.node.state,
        wake,
      },
    };
    return masked(secrets.mask, run.run(
      () => events.emit('execution.resumed', { nodeId: node.id }),
      () => ('code' in resolved ? run.cancelSuspended(node, cursor, { ...resolved, nodeId: node.id }, 'failed') : run.loop(cursor)),
    ));
  }

  private async cancelExecution(value: unknown, reason: string, ending: { status: 'canceled' | 'timeout'; code?: string } = { status: 'canceled' }): Promise<EngineResult> {
    const problem = continuationProblem(value);
    if (problem !== undefined) return failed(ENGINE_ERROR_CODES.invalidContinuation, `the continuation is not usable: ${problem}`);
    const continuation = value as Continuation;
    // The spec is not needed to record the end; the node as the continuation names it will do.
    const workflow = { workflowId: continuation.workflowId, version: continuation.version, spec: { settings: { executionTimeoutMs: 0, maxSteps: 0 } } } as unknown as PinnedWorkflow;
    const node = { id: continuation.node.id, type: continuation.node.type } as WorkflowNodeBase;
    const state = this.stateFrom(workflow, new Map(), continuation, continuation.session, {});
    const run = new ExecutionRun(this.services, state, this.recorder(continuation.executionId, workflow, SecretMask.none), undefined);
    const error = { code: ending.code ?? (ending.status === 'timeout' ? EXECUTION_ERROR_CODES.timeout : ENGINE_ERROR_CODES.canceled), message: reason, nodeId: node.id };
    return run.run(
      async () => undefined,
      () =>
        run.cancelSuspended(
          node,
          {
            nodeId: node.id,
            attempt: continuation.node.attempt,
            retryCounts: [],
            suspended: { attemptStartedAt: Date.parse(continuation.node.attemptStartedAt), timeoutAt: null, state: continuation.node.state, wake: { kind: 'timer' } },
          },
          error,
          ending.status,
        ),
    );
  }

  private stateFrom(workflow: PinnedWorkflow, nodesById: RunState['nodesById'], continuation: Continuation, session: SessionInfo | null, secrets: RunState['secrets']): RunState {
    return {
      executionId: continuation.executionId,
      workflow,
      nodesById,
      environment: continuation.environment,
      trigger: continuation.trigger,
      session,
      vars: { ...continuation.vars },
      nodes: { ...continuation.nodes },
      secrets,
      steps: continuation.steps,
      startedAt: Date.parse(continuation.startedAt),
      deadline: Date.parse(continuation.deadlineAt),
      depth: continuation.depth,
    };
  }

  /** Every event of a run goes through its mask on the way to the sink. */
  private recorder(executionId: string, workflow: PinnedWorkflow, mask: SecretMask): EventRecorder {
    const sink = this.options.sink;
    const through = mask.empty ? sink : { emit: (event: Parameters<typeof sink.emit>[0]) => sink.emit(mask.value(event)) };
    return new EventRecorder(through, this.services.clock, { executionId, workflowId: workflow.workflowId, workflowVersion: workflow.version });
  }

  /**
   * The values of the secrets the spec names, from the workflow's team; an error (code and
   * message, never a value) when one is missing or none can be read.
   */
  private async secretsFor(workflow: PinnedWorkflow): Promise<RunSecrets | ExecutionErrorInfo> {
    const names = namedSecrets(workflow.spec);
    if (names.length === 0) return NO_SECRETS;
    const source = this.options.secrets;
    if (source === undefined) return { code: ENGINE_ERROR_CODES.secretsUnavailable, message: `the workflow uses secrets (${names.join(', ')}) and this engine has no secret source` };
    try {
      const resolved = await source.resolve(workflow.workflowId, names);
      const values: Record<string, string> = {};
      for (const name of names) {
        const value = resolved.get(name);
        if (value === undefined) return { code: ENGINE_ERROR_CODES.secretsUnknown, message: `the workflow's team has no secret ${name}: set it with PUT /secrets/${name}` };
        Object.defineProperty(values, name, { value, enumerable: true });
      }
      return { values, mask: new SecretMask(resolved) };
    } catch (error) {
      if (error instanceof SecretResolutionError) return { code: error.code, message: error.message };
      return { code: ENGINE_ERROR_CODES.secretsUnavailable, message: `the workflow's secrets could not be read: ${errorMessage(error)}` };
    }
  }

  /** Children are executions of their own (own id, events, limits) that share the parent's session. */
  private subworkflowsFor(parent: RunState): SubworkflowRunner {
    return {
      start: async (ref, input, signal) => {
        const depth = parent.depth + 1;
        if (depth > this.maxDepth) return failed(ENGINE_ERROR_CODES.subworkflowDepth, `subworkflows nest deeper than ${this.maxDepth} levels`);
        const resolved = await this.resolve(ref.workflowId, ref.version);
        if ('status' in resolved) return resolved;
        return this.startExecution({
          executionId: randomUUID(),
          workflow: resolved,
          trigger: { type: 'subworkflow', payload: input },
          session: parent.session,
          environment: parent.environment,
          depth,
          signal,
        });
      },
      resume: async (continuation, wake, signal) => {
        const problem = continuationProblem(continuation);
        if (problem !== undefined) return failed(ENGINE_ERROR_CODES.invalidContinuation, `the child's continuation is not usable: ${problem}`);
        const child = continuation as unknown as Continuation;
        const resolved = await this.resolve(child.workflowId, child.version);
        if ('status' in resolved) return resolved;
        const input: ResumeInput = wake.kind === 'input' ? { kind: 'input', text: wake.text, ...(parent.session === null ? {} : { session: parent.session }) } : { kind: 'timer' };
        return this.resumeExecution(resolved, child, input, signal);
      },
      cancel: async (continuation, reason) => {
        await this.cancelExecution(continuation, `the parent execution ${parent.executionId} ended (${reason.code}): ${reason.message}`);
      },
    };
  }

  private async resolve(workflowId: string, version: number | undefined): Promise<PinnedWorkflow | EngineResult> {
    const resolver: SubworkflowResolver | undefined = this.options.subworkflows;
    const what = `workflow ${workflowId}${version === undefined ? '' : ` version ${version}`}`;
    if (resolver === undefined) return failed(NODE_ERROR_CODES.subworkflowNotFound, `${what}: no subworkflow resolver is configured`);
    let resolved: PinnedWorkflow | null;
    try {
      resolved = await resolver.resolvePublished(workflowId, version);
    } catch (error) {
      return failed(ENGINE_ERROR_CODES.subworkflowUnavailable, `${what} could not be looked up: ${errorMessage(error)}`);
    }
    return resolved ?? failed(NODE_ERROR_CODES.subworkflowNotFound, `${what} is not published`);
  }
}

/** The result as it leaves the engine: output, message, prompt, error and continuation masked. */
async function masked(mask: SecretMask, result: Promise<EngineResult>): Promise<EngineResult> {
  return mask.empty ? result : mask.value(await result);
}

function readWake(input: unknown): { kind: 'input'; text: string } | { kind: 'timer' } | undefined {
  if (!isRecord(input)) return undefined;
  if (input['kind'] === 'timer') return { kind: 'timer' };
  if (input['kind'] === 'input' && typeof input['text'] === 'string') return { kind: 'input', text: input['text'] };
  return undefined;
}

function toVariables(variables: unknown): Record<string, JsonValue> {
  const json = toJsonOrNull(variables ?? {});
  return isRecord(json) ? (json as Record<string, JsonValue>) : {};
}
