import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import {
  type Continuation,
  type EngineResult,
  type ExecutionEvent,
  type ExecutionEventSink,
  type HttpClient,
  type PinnedWorkflow,
  sinkBackPressure,
  WorkflowEngine,
} from '@ussd/execution-domain';
import { ExecutionLogRepository } from '@ussd/execution-data-access';
import { InjectConfig, type PlatformConfig } from '@ussd/platform-config';
import { InjectLogger, type Logger } from '@ussd/platform-logging';
import { type WorkflowEntity, WorkflowRepository } from '@ussd/workflow-data-access';
import type { WorkflowSpec } from '@ussd/workflow-domain';
import { WorkflowNotFoundException } from '@ussd/workflow-feature';
import { type ExecutionJob, type ExecutionQueue, InMemoryExecutionQueue } from './execution-queue.js';
import type { RunExecutionBody, RunOutcome } from './execution.dto.js';
import {
  EventBacklogException,
  ExecutionCapacityException,
  ExecutionConflictException,
  ExecutionNotFoundException,
  NoHttpTriggerException,
  NotRunnableException,
  type TriggerSummary,
} from './execution.exception.js';
import { EXECUTION_EVENT_SINK, EventProducers } from './execution-logs.module.js';
import { InjectOutboundHttp } from './outbound-http.module.js';
import { WorkflowSecrets } from './workflow-secrets.module.js';

const MAX_PAUSED_KEPT = 10_000;
/** How long another replica's publish or deactivation may go unseen here. */
const RUNNABLE_CACHE_MS = 1000;
const RUNNABLE_CACHE_MAX = 10_000;

export interface RunResult {
  readonly outcome: RunOutcome;
  /** true: not finished yet (202); false: the outcome is final or paused (200). */
  readonly accepted: boolean;
}

/**
 * Runs published workflow versions in this process: sync (bounded wait, then 202 while it
 * finishes in the background) or async (the per-workflow queue), retries and cancels.
 * Every run reports through the event sink; nothing here writes log rows itself.
 */
@Injectable()
export class ExecutionRunner implements OnModuleInit, OnApplicationBootstrap {
  private readonly engine: WorkflowEngine;
  private queue: ExecutionQueue;
  private readonly inFlight = new Map<string, { controller: AbortController; workflow: PinnedWorkflow; done: Promise<EngineResult> }>();
  /** HTTP-triggered executions waiting for input; USSD ones live in sessions (USSD issue). */
  private readonly paused = new Map<string, { workflow: PinnedWorkflow; continuation: Continuation }>();
  /** The hot path's only read: which version runs. Published specs never change; the pointer may. */
  private readonly runnable = new Map<string, { workflow: PinnedWorkflow; expiresAt: number }>();

  constructor(
    @Inject(EXECUTION_EVENT_SINK) private readonly sink: ExecutionEventSink,
    private readonly workflows: WorkflowRepository,
    private readonly logs: ExecutionLogRepository,
    @InjectConfig() private readonly config: PlatformConfig,
    @InjectLogger() private readonly logger: Logger,
    producers: EventProducers,
    /** The process's one outbound client (OutboundHttpModule): allowlist, response cap; closed at shutdown there. */
    @InjectOutboundHttp() http: HttpClient,
    /** The secrets a run names, from its workflow's team. */
    secrets: WorkflowSecrets,
  ) {
    this.engine = new WorkflowEngine({
      sink,
      http,
      secrets,
      outputCapBytes: config.execution.outputCapBytes,
      subworkflows: { resolvePublished: (workflowId, version) => this.resolvePublished(workflowId, version) },
    });
    this.queue = new InMemoryExecutionQueue(config.execution.concurrencyPerWorkflow, config.execution.queueMax);
    producers.register(() => this.drain());
    workflows.onChange((workflowId) => {
      for (const key of this.runnable.keys()) if (key.startsWith(`${workflowId}@`)) this.runnable.delete(key);
    });
  }

  /** With REDIS_URL the durable queue replaces the in-memory one; BullMQ is only loaded then (~20 MB). */
  async onModuleInit(): Promise<void> {
    const redisUrl = this.config.redis.url;
    if (redisUrl === undefined) return;
    const { RedisExecutionQueue } = await import('./redis-execution-queue.js');
    this.queue = new RedisExecutionQueue({
      redisUrl,
      keyPrefix: this.config.redis.keyPrefix,
      workerConcurrency: this.config.execution.workerConcurrency,
      concurrencyPerWorkflow: this.config.execution.concurrencyPerWorkflow,
      jobLockMs: this.config.execution.jobLockMs,
      logger: this.logger,
    });
  }

  onApplicationBootstrap(): void {
    this.queue.start((job) => this.processJob(job));
  }

  async run(workflowId: string, body: RunExecutionBody, retryOf?: string): Promise<RunResult> {
    const backPressure = sinkBackPressure(this.sink);
    if (backPressure?.saturated) throw new EventBacklogException(backPressure.pending, backPressure.saturationReason);
    const workflow = await this.requireRunnable(workflowId, body.version);
    const executionId = randomUUID();
    if (retryOf !== undefined) await this.logs.recordRetry(executionId, retryOf);
    const base = { executionId, workflowId: workflow.workflowId, workflowVersion: workflow.version, ...(retryOf ? { retryOf } : {}) };
    const payload = body.payload ?? null;

    if (body.mode === 'async') {
      const accepted = await this.queue.offer({ executionId, workflowId: workflow.workflowId, version: workflow.version, payload });
      if (!accepted) throw new ExecutionCapacityException(`The execution queue is full (${this.config.execution.queueMax} waiting); try again later.`);
      return { outcome: { ...base, status: 'queued' }, accepted: true };
    }

    const done = this.execute(executionId, workflow, payload);
    const waited = await Promise.race([done, sleep(this.config.execution.syncTimeoutMs).then(() => undefined)]);
    if (waited === undefined) return { outcome: { ...base, status: 'running' }, accepted: true };
    return { outcome: { ...base, ...describe(waited) }, accepted: false };
  }

  /** A new execution with the original's payload and pinned version, linked to it. */
  async retry(executionId: string): Promise<RunResult> {
    const original = await this.logs.getExecution(executionId);
    if (!original) throw new ExecutionNotFoundException(executionId);
    return this.run(original.workflowId, { mode: 'async', payload: original.triggerPayload, version: original.workflowVersion }, executionId);
  }

  /** Cancels a queued, running or paused execution of this process. */
  async cancel(executionId: string): Promise<RunOutcome> {
    const queued = await this.queue.remove(executionId);
    if (queued) {
      await this.emitNotStarted(queued, 'canceled', { code: 'execution.canceled', message: 'canceled through the API before it started' });
      return { executionId, workflowId: queued.workflowId, workflowVersion: queued.version, status: 'canceled' };
    }
    const running = this.inFlight.get(executionId);
    if (running) {
      running.controller.abort(new Error('canceled through the API'));
      const result = await running.done;
      return { executionId, workflowId: running.workflow.workflowId, workflowVersion: running.workflow.version, ...describe(result) };
    }
    const paused = this.paused.get(executionId);
    if (paused) {
      this.paused.delete(executionId);
      const result = await this.engine.cancel(paused.continuation, 'canceled through the API');
      return { executionId, workflowId: paused.workflow.workflowId, workflowVersion: paused.workflow.version, ...describe(result) };
    }
    const logged = await this.logs.getExecution(executionId);
    if (!logged) throw new ExecutionNotFoundException(executionId);
    throw new ExecutionConflictException(executionId, `Execution ${executionId} is ${logged.status}${['queued', 'running'].includes(logged.status) ? ' in another process' : ''}; it cannot be canceled here.`);
  }

  private execute(executionId: string, workflow: PinnedWorkflow, payload: unknown): Promise<EngineResult> {
    const controller = new AbortController();
    const done = this.engine
      .start({ executionId, workflow, trigger: { type: 'http', payload }, signal: controller.signal })
      .then((result) => {
        if (result.status === 'paused') this.keepPaused(executionId, workflow, result.continuation);
        return result;
      })
      .finally(() => this.inFlight.delete(executionId));
    this.inFlight.set(executionId, { controller, workflow, done });
    return done;
  }

  private keepPaused(executionId: string, workflow: PinnedWorkflow, continuation: Continuation): void {
    if (this.paused.size >= MAX_PAUSED_KEPT) {
      const oldest = this.paused.keys().next().value;
      if (oldest !== undefined) this.paused.delete(oldest); // the reaper ends it at its deadline
    }
    this.paused.set(executionId, { workflow, continuation });
  }

  private async requireRunnable(workflowId: string, version: number | undefined): Promise<PinnedWorkflow> {
    const key = `${workflowId}@${version ?? 'latest'}`;
    const cached = this.runnable.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.workflow;
    const workflow = await this.loadRunnable(workflowId, version);
    if (this.runnable.size >= RUNNABLE_CACHE_MAX) this.runnable.clear();
    this.runnable.set(key, { workflow, expiresAt: Date.now() + RUNNABLE_CACHE_MS });
    return workflow;
  }

  private async loadRunnable(workflowId: string, version: number | undefined): Promise<PinnedWorkflow> {
    const entity = version === undefined ? await this.workflows.findLatestPublished(workflowId) : await this.workflows.findVersion(workflowId, version);
    if (!entity) {
      if (!(await this.workflows.findLatest(workflowId))) throw new WorkflowNotFoundException(workflowId);
      throw new NotRunnableException(workflowId, version === undefined ? 'The workflow has no published version; publish one first.' : `The workflow has no version ${version}.`);
    }
    if (entity.publishedAt === null) throw new NotRunnableException(workflowId, `Version ${entity.version} is a draft; only published versions run.`);
    if (!entity.isActive) throw new NotRunnableException(workflowId, 'The workflow is deactivated; reactivate it to run it.');
    // Checked here, before an id is issued or an event emitted: the engine would otherwise
    // start the execution and store it as failed (execution.invalid_spec), a log row for a
    // request that could never have run.
    const triggers = triggersOf(entity);
    if (!triggers.some((trigger) => trigger.type === 'http')) throw new NoHttpTriggerException(entity.workflowId, entity.version, triggers);
    return pin(entity);
  }

  private async resolvePublished(workflowId: string, version?: number): Promise<PinnedWorkflow | null> {
    const entity = version === undefined ? await this.workflows.findLatestPublished(workflowId) : await this.workflows.findVersion(workflowId, version);
    return entity && entity.publishedAt !== null ? pin(entity) : null;
  }

  /** A queued job runs the version pinned when it was accepted, in whichever process takes it. */
  private async processJob(job: ExecutionJob): Promise<void> {
    const workflow = await this.resolvePublished(job.workflowId, job.version);
    if (!workflow) {
      await this.emitNotStarted(job, 'failed', { code: 'execution.not_runnable', message: `version ${job.version} is no longer published` });
      return;
    }
    await this.execute(job.executionId, workflow, job.payload);
  }

  /** An execution that ends before it started (canceled in the queue, unrunnable) still gets its log. */
  private async emitNotStarted(job: ExecutionJob, status: 'canceled' | 'failed', error: { code: string; message: string }): Promise<void> {
    const now = new Date().toISOString();
    const envelope = { executionId: job.executionId, workflowId: job.workflowId, workflowVersion: job.version, occurredAt: now };
    const events: ExecutionEvent[] = [
      { ...envelope, eventId: randomUUID(), type: 'execution.started', payload: { triggerPayload: job.payload ?? null, sessionId: null, startedAt: now, deadlineAt: null } },
      { ...envelope, eventId: randomUUID(), type: 'execution.finished', payload: { status, output: null, error, completedAt: now, durationMs: 0 } },
    ];
    for (const event of events) await this.sink.emit(event);
  }

  /** At shutdown: nothing new starts; running executions finish (bounded by SHUTDOWN_GRACE_MS). */
  private async drain(): Promise<void> {
    const neverStarted = await this.queue.close();
    await Promise.allSettled([...this.inFlight.values()].map((run) => run.done));
    for (const job of neverStarted) {
      await this.emitNotStarted(job, 'canceled', { code: 'execution.canceled', message: 'the process stopped before it started (in-memory queue)' }).catch(() => undefined);
    }
    if (neverStarted.length > 0) this.logger.warn({ count: neverStarted.length }, 'queued executions canceled at shutdown (in-memory queue)');
  }
}

/** The version's triggers as the problem shows them (published specs are valid, but read defensively). */
function triggersOf(entity: WorkflowEntity): TriggerSummary[] {
  const triggers = (entity.spec as { triggers?: unknown }).triggers;
  if (!Array.isArray(triggers)) return [];
  return triggers
    .filter((t): t is Record<string, unknown> => typeof t === 'object' && t !== null && typeof (t as { type?: unknown }).type === 'string')
    .map((t) => ({
      type: t['type'] as string,
      ...(typeof t['serviceCode'] === 'string' ? { serviceCode: t['serviceCode'] } : {}),
      ...(Array.isArray(t['environments']) ? { environments: t['environments'].filter((e): e is string => typeof e === 'string') } : {}),
    }));
}

function pin(entity: WorkflowEntity): PinnedWorkflow {
  return { workflowId: entity.workflowId, version: entity.version, spec: entity.spec as WorkflowSpec };
}

function describe(result: EngineResult): Pick<RunOutcome, 'status' | 'output' | 'error' | 'prompt'> {
  switch (result.status) {
    case 'completed':
      return { status: 'completed', output: result.output };
    case 'failed':
    case 'timeout':
    case 'canceled':
      return { status: result.status, error: result.error };
    case 'paused':
      return { status: 'paused', ...(result.prompt ? { prompt: result.prompt } : {}) };
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
