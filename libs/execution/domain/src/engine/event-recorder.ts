import { randomUUID } from 'node:crypto';
import type { ExecutionEvent, ExecutionEventSink, ExecutionEventType } from '../execution-events.js';
import type { Clock } from './clock.js';

/** The sink threw or rejected. Internal: the run loop turns it into `events.unavailable`. */
export class SinkFailure extends Error {
  override readonly name = 'SinkFailure';
}

type PayloadOf<T extends ExecutionEventType> = Extract<ExecutionEvent, { type: T }>['payload'];

/**
 * Builds envelopes for one execution and hands them to the sink, in order, one at a time:
 * the next event waits until the sink has taken the previous one, so a stream sees them in
 * the order they happened.
 */
export class EventRecorder {
  private broken = false;

  constructor(
    private readonly sink: ExecutionEventSink,
    private readonly clock: Clock,
    private readonly ids: { readonly executionId: string; readonly workflowId: string; readonly workflowVersion: number },
  ) {}

  /** Whether a previous emit failed; later events would have gaps before them. */
  get failed(): boolean {
    return this.broken;
  }

  /** Throws SinkFailure when the sink fails. */
  async emit<T extends ExecutionEventType>(type: T, payload: PayloadOf<T>): Promise<void> {
    const event = {
      eventId: randomUUID(),
      type,
      executionId: this.ids.executionId,
      workflowId: this.ids.workflowId,
      workflowVersion: this.ids.workflowVersion,
      occurredAt: new Date(this.clock.now()).toISOString(),
      payload,
    } as ExecutionEvent;
    try {
      await this.sink.emit(event);
    } catch (error) {
      this.broken = true;
      throw new SinkFailure(`the event sink refused ${type}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}
