import type { WorkflowSpec } from '@ussd/workflow-domain';
import type { ExecutionErrorInfo, ExecutionEventSink } from '../execution-events.js';
import type { Clock } from './clock.js';
import type { Continuation } from './continuation.js';
import type { HttpClient } from './http-client.js';
import type { NodeHandlerRegistry } from './node-handler-registry.js';

/** A published version, pinned: an execution runs (and resumes) on exactly this spec. */
export interface PinnedWorkflow {
  readonly workflowId: string;
  readonly version: number;
  readonly spec: WorkflowSpec;
}

/** Finds the published versions `subworkflow` nodes run. */
export interface SubworkflowResolver {
  /** `version` absent: the version published now. Null when there is none. */
  resolvePublished(workflowId: string, version?: number): Promise<PinnedWorkflow | null>;
}

/** The USSD session as expressions see it (`session`); `input` is the latest reply. */
export interface SessionInfo {
  readonly sessionId: string;
  readonly msisdn: string;
  readonly serviceCode: string;
  readonly input: string;
}

/**
 * Reads the values of the secrets a run names (`secrets.NAME`), from the team that owns the
 * workflow, when the run starts or resumes. Values live only in that run's memory: never in
 * events, results or continuations (they are masked as `[secret:NAME]` there).
 */
export interface SecretSource {
  /** @throws SecretResolutionError, or anything else (reported as `secrets.unavailable`). */
  resolve(workflowId: string, names: readonly string[]): Promise<ReadonlyMap<string, string>>;
}

/** Why a run's secrets could not be read: `secrets.unknown` (a name the team lacks) or `secrets.unavailable`. */
export class SecretResolutionError extends Error {
  override readonly name = 'SecretResolutionError';
  constructor(
    readonly code: 'secrets.unknown' | 'secrets.unavailable',
    message: string,
  ) {
    super(message);
  }
}

export interface EngineOptions {
  readonly sink: ExecutionEventSink;
  readonly clock?: Clock;
  /** Default: `createHttpClient` with a 5 s connect timeout, a 1 MiB response cap and no allowlist (public addresses only). */
  readonly http?: HttpClient;
  /** Without it a spec that names a secret fails with `secrets.unavailable`. */
  readonly secrets?: SecretSource;
  /** Without it every `subworkflow` node fails with `subworkflow.not_found`. */
  readonly subworkflows?: SubworkflowResolver;
  /** Default: the ten built-in node types. */
  readonly handlers?: NodeHandlerRegistry;
  /** Cap on each output written to events (node outputs, trigger payload, final output). Default 16 KiB. */
  readonly outputCapBytes?: number;
  /** Delays up to this are slept inline; longer ones pause with `waitingFor: 'time'`. Default 1,000. */
  readonly maxInlineDelayMs?: number;
  /** Random source for retry jitter, [0, 1). Default Math.random. */
  readonly random?: () => number;
  /** How deep subworkflows may nest (a workflow calling itself). Default 8. */
  readonly maxSubworkflowDepth?: number;
}

export interface StartRequest {
  /** Unique per execution (at most 255 characters): the logs' `execution_id`. */
  readonly executionId: string;
  readonly workflow: PinnedWorkflow;
  readonly trigger: { readonly type: 'http' | 'ussd'; readonly payload: unknown };
  readonly session?: SessionInfo | null;
  /** `execution.environment` in expressions, and which USSD trigger applies. Default 'default'. */
  readonly environment?: string;
  /** Aborting it cancels the execution (status `canceled`). */
  readonly signal?: AbortSignal;
}

/** What wakes a paused execution: the subscriber's reply, or a timer the caller scheduled at `resumeAt`. */
export type ResumeInput = { readonly kind: 'input'; readonly text: string; readonly session?: SessionInfo } | { readonly kind: 'timer' };

export interface Prompt {
  readonly kind: 'menu' | 'input';
  readonly text: string;
}

export type EngineResult =
  | {
      readonly status: 'completed';
      readonly output: unknown;
      /** The final USSD message: `ussd.end`'s text, '' for an `end` node. */
      readonly message: string;
      readonly continuation?: undefined;
    }
  | { readonly status: 'failed' | 'timeout' | 'canceled'; readonly error: ExecutionErrorInfo; readonly continuation?: undefined }
  | {
      readonly status: 'paused';
      readonly waitingFor: 'input' | 'time';
      /**
       * 'time': when the delay ends. 'input': when the wait expires (the node's `timeoutMs` or the
       * execution deadline, whichever is first). Resume with `{ kind: 'timer' }` then.
       */
      readonly resumeAt?: string;
      readonly prompt?: Prompt;
      readonly continuation: Continuation;
    };

