import { randomUUID } from 'node:crypto';
import type { ExecutionEvent, ExecutionEventEnvelope } from '@ussd/execution-domain';

/** Builds the events of one execution the way the engine emits them: for tests, benchmarks and fault drills. */
export class ExecutionEventFactory {
  readonly executionId: string;
  private clock: number;

  constructor(
    readonly workflowId: string = randomUUID(),
    readonly workflowVersion = 1,
    executionId?: string,
    startAt = Date.parse('2026-01-01T00:00:00.000Z'),
  ) {
    this.executionId = executionId ?? `exec-${randomUUID()}`;
    this.clock = startAt;
  }

  private envelope<T extends ExecutionEvent['type']>(type: T, payload: ExecutionEventEnvelope<T>['payload']): ExecutionEventEnvelope<T> {
    this.clock += 5;
    return {
      eventId: randomUUID(),
      type,
      executionId: this.executionId,
      workflowId: this.workflowId,
      workflowVersion: this.workflowVersion,
      occurredAt: new Date(this.clock).toISOString(),
      payload,
    };
  }

  started(triggerPayload: unknown = { msisdn: '+254700000000' }, sessionId: string | null = null) {
    return this.envelope('execution.started', { triggerPayload, sessionId, startedAt: new Date(this.clock + 5).toISOString(), deadlineAt: null });
  }

  node(nodeId: string, overrides: Partial<ExecutionEventEnvelope<'node.finished'>['payload']> = {}) {
    return this.envelope('node.finished', {
      nodeExecutionId: randomUUID(),
      nodeId,
      nodeType: 'transform',
      status: 'completed',
      output: { ok: true, nodeId },
      error: null,
      durationMs: 2,
      executedAt: new Date(this.clock + 5).toISOString(),
      attempt: 0,
      ...overrides,
    });
  }

  finished(status: 'completed' | 'failed' | 'timeout' | 'canceled' = 'completed', output: unknown = { done: true }) {
    return this.envelope('execution.finished', {
      status,
      output,
      error: status === 'completed' ? null : { code: `execution.${status}`, message: status },
      completedAt: new Date(this.clock + 5).toISOString(),
      durationMs: 42,
    });
  }
}
