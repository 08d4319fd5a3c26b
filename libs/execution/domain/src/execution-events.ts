import type { ExecutionStatus } from './execution-status.js';

/**
 * The execution event contract (docs/architecture.md, "Execution events"). The engine emits these;
 * they travel through one Redis Stream (or in-process in the embedded default) to the
 * ingestion service, which turns them into `execution_logs` and `node_execution_logs` rows.
 *
 * Every envelope is self-describing enough to be ingested alone and out of order: it carries
 * the workflow and version, so a node event that overtakes its execution's start event can
 * still create the execution row it references (the foreign key never fails).
 */
export const EXECUTION_EVENT_TYPES = ['execution.started', 'node.finished', 'execution.paused', 'execution.resumed', 'execution.finished'] as const;
export type ExecutionEventType = (typeof EXECUTION_EVENT_TYPES)[number];

/** Error details as stored in the `error` JSONB columns. */
export interface ExecutionErrorInfo {
  /** Stable, machine-readable: `node.timeout`, `http.status.503`, `execution.timeout`, … */
  readonly code: string;
  readonly message: string;
  /** The node where it happened, if any. */
  readonly nodeId?: string;
  readonly details?: unknown;
}

export interface ExecutionStartedPayload {
  readonly triggerPayload: unknown;
  readonly sessionId: string | null;
  readonly startedAt: string;
  /** When the execution times out (settings.executionTimeoutMs), for the reaper. */
  readonly deadlineAt: string | null;
}

export interface NodeFinishedPayload {
  /** Producer-made UUID: the `node_execution_logs.id`, so the row is written at most once. */
  readonly nodeExecutionId: string;
  readonly nodeId: string;
  readonly nodeType: string;
  readonly status: 'completed' | 'failed' | 'timeout' | 'canceled';
  readonly output: unknown;
  readonly error: ExecutionErrorInfo | null;
  readonly durationMs: number;
  readonly executedAt: string;
  /** 0 for the first attempt, as the seed's default. */
  readonly attempt: number;
  /** Set when `output` was cut to the configured cap; the original size is recorded. */
  readonly outputTruncated?: { readonly originalBytes: number; readonly capBytes: number };
}

export interface ExecutionPausedPayload {
  readonly nodeId: string;
  readonly waitingFor: 'input' | 'time';
  readonly resumeAt?: string;
}

export interface ExecutionResumedPayload {
  readonly nodeId: string;
}

export interface ExecutionFinishedPayload {
  readonly status: Extract<ExecutionStatus, 'completed' | 'failed' | 'timeout' | 'canceled'>;
  readonly output: unknown;
  readonly error: ExecutionErrorInfo | null;
  readonly completedAt: string;
  readonly durationMs: number;
}

interface PayloadByType {
  'execution.started': ExecutionStartedPayload;
  'node.finished': NodeFinishedPayload;
  'execution.paused': ExecutionPausedPayload;
  'execution.resumed': ExecutionResumedPayload;
  'execution.finished': ExecutionFinishedPayload;
}

export interface ExecutionEventEnvelope<T extends ExecutionEventType = ExecutionEventType> {
  /** Producer-made UUID; consumers are idempotent on it. */
  readonly eventId: string;
  readonly type: T;
  readonly executionId: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  /** ISO-8601 time the producer made the event. */
  readonly occurredAt: string;
  readonly payload: PayloadByType[T];
}

export type ExecutionEvent = { [T in ExecutionEventType]: ExecutionEventEnvelope<T> }[ExecutionEventType];

/** Where the engine reports what happens: a stream, an in-process ingester, a test array. */
export interface ExecutionEventSink {
  emit(event: ExecutionEvent): void | Promise<void>;
}

/**
 * A sink that can fall behind (a buffer in front of PostgreSQL or Redis) says so here, so that
 * callers refuse to start new work (503) while the work already running can still log every
 * event. Both production sinks implement it; check any injected sink with `sinkBackPressure`.
 */
export interface EventSinkBackPressure {
  /** True while new executions should be refused. */
  readonly saturated: boolean;
  /** Events accepted by emit() and not yet durable. */
  readonly pending: number;
  /** Why it is saturated, for the caller's error message (e.g. "Redis is unreachable"). */
  readonly saturationReason?: string | undefined;
}

/** The sink's back-pressure state if it reports one; undefined for sinks that never fall behind. */
export function sinkBackPressure(sink: ExecutionEventSink): EventSinkBackPressure | undefined {
  const candidate = sink as Partial<EventSinkBackPressure>;
  return typeof candidate.saturated === 'boolean' && typeof candidate.pending === 'number' ? (sink as unknown as EventSinkBackPressure) : undefined;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isIso = (value: unknown) => typeof value === 'string' && value.length <= 40 && !Number.isNaN(Date.parse(value));

/**
 * Checks an envelope that came over the wire (a Redis Stream entry, say). Returns the
 * reason it is unusable, or undefined when it is fine; poison entries are dead-lettered
 * with this reason instead of blocking the stream.
 */
export function envelopeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const e = value as Record<string, unknown>;
  if (typeof e['eventId'] !== 'string' || !UUID.test(e['eventId'])) return 'eventId must be a UUID';
  if (typeof e['type'] !== 'string' || !(EXECUTION_EVENT_TYPES as readonly string[]).includes(e['type'])) return 'unknown type';
  if (typeof e['executionId'] !== 'string' || e['executionId'].length === 0 || e['executionId'].length > 255) return 'executionId must be 1-255 characters';
  if (typeof e['workflowId'] !== 'string' || !UUID.test(e['workflowId'])) return 'workflowId must be a UUID';
  if (!Number.isInteger(e['workflowVersion']) || (e['workflowVersion'] as number) < 1) return 'workflowVersion must be a positive integer';
  if (!isIso(e['occurredAt'])) return 'occurredAt must be an ISO timestamp';
  const p = e['payload'];
  if (typeof p !== 'object' || p === null || Array.isArray(p)) return 'payload must be an object';
  const payload = p as Record<string, unknown>;
  switch (e['type'] as ExecutionEventType) {
    case 'execution.started':
      return isIso(payload['startedAt']) ? undefined : 'payload.startedAt must be an ISO timestamp';
    case 'node.finished':
      if (typeof payload['nodeExecutionId'] !== 'string' || !UUID.test(payload['nodeExecutionId'])) return 'payload.nodeExecutionId must be a UUID';
      if (typeof payload['nodeId'] !== 'string' || payload['nodeId'].length === 0 || payload['nodeId'].length > 255) return 'payload.nodeId must be 1-255 characters';
      if (typeof payload['nodeType'] !== 'string' || payload['nodeType'].length === 0 || payload['nodeType'].length > 100) return 'payload.nodeType must be 1-100 characters';
      if (!['completed', 'failed', 'timeout', 'canceled'].includes(payload['status'] as string)) return 'payload.status is not a node status';
      if (!Number.isInteger(payload['durationMs']) || (payload['durationMs'] as number) < 0 || (payload['durationMs'] as number) > 2_147_483_647) return 'payload.durationMs must be a non-negative integer';
      if (!Number.isInteger(payload['attempt']) || (payload['attempt'] as number) < 0 || (payload['attempt'] as number) > 1000) return 'payload.attempt must be an integer from 0';
      return isIso(payload['executedAt']) ? undefined : 'payload.executedAt must be an ISO timestamp';
    case 'execution.finished':
      if (!['completed', 'failed', 'timeout', 'canceled'].includes(payload['status'] as string)) return 'payload.status is not a terminal status';
      if (!Number.isInteger(payload['durationMs']) || (payload['durationMs'] as number) < 0) return 'payload.durationMs must be a non-negative integer';
      return isIso(payload['completedAt']) ? undefined : 'payload.completedAt must be an ISO timestamp';
    case 'execution.paused':
    case 'execution.resumed':
      return typeof payload['nodeId'] === 'string' ? undefined : 'payload.nodeId must be a string';
  }
}
