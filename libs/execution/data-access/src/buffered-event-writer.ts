import type { EventSinkBackPressure, ExecutionEvent, ExecutionEventSink } from '@ussd/execution-domain';
import type { ExecutionLogIngestor } from './execution-log.ingestor.js';

export interface BufferedEventWriterOptions {
  /** Events written per transaction. */
  readonly batchSize: number;
  /** Longest an event waits in the buffer before a flush starts. */
  readonly flushIntervalMs: number;
  /** Beyond this many unwritten events, emit() refuses: executions fail fast instead of losing logs. */
  readonly maxBuffered: number;
  readonly onError: (error: unknown, pending: number) => void;
}

export class EventBufferFullError extends Error {
  constructor(limit: number) {
    super(`execution event buffer is full (${limit} unwritten events): the log database is not keeping up or is down`);
    this.name = 'EventBufferFullError';
  }
}

/**
 * The embedded default's event path: the engine's emit() only appends to memory, and a
 * background loop writes batches through the same ingestor the log-ingester uses, so the hot
 * path never waits on a database write. A failed batch stays at the head of the buffer and is
 * retried with backoff; the buffer is bounded, and past the bound emit() throws.
 */
export class BufferedEventWriter implements ExecutionEventSink, EventSinkBackPressure {
  private buffer: ExecutionEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly ingestor: ExecutionLogIngestor,
    private readonly options: BufferedEventWriterOptions,
  ) {}

  get pending(): number {
    return this.buffer.length;
  }

  /**
   * Past half its bound the writer is falling behind: callers should refuse to start new
   * work (503) so that the work already running can still log every event.
   */
  get saturated(): boolean {
    return this.buffer.length >= this.options.maxBuffered / 2;
  }

  get saturationReason(): string | undefined {
    return this.saturated ? 'the execution log database is not keeping up or is down' : undefined;
  }

  emit(event: ExecutionEvent): void {
    if (this.closed) throw new Error('event writer is closed');
    if (this.buffer.length >= this.options.maxBuffered) throw new EventBufferFullError(this.options.maxBuffered);
    this.buffer.push(event);
    if (this.buffer.length >= this.options.batchSize) this.kick(0);
    else this.kick(this.options.flushIntervalMs);
  }

  /** Writes everything buffered so far (retrying failed batches until `deadline`). */
  async flush(deadlineMs = 10_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (this.buffer.length > 0 || this.flushing) {
      if (Date.now() > deadline) throw new Error(`could not write ${this.buffer.length} execution events within ${deadlineMs} ms`);
      await (this.flushing ?? this.writeOnce());
      if (this.failures > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** this.failures)));
    }
  }

  /** Stops taking events and writes what is left. */
  async close(deadlineMs = 10_000): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush(deadlineMs);
  }

  private kick(delayMs: number): void {
    if (this.flushing || (this.timer && delayMs > 0)) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.writeOnce();
    }, delayMs);
    this.timer.unref();
  }

  private writeOnce(): Promise<void> {
    if (this.flushing) return this.flushing;
    const batch = this.buffer.slice(0, this.options.batchSize);
    if (batch.length === 0) return Promise.resolve();
    this.flushing = this.ingestor
      .ingest(batch)
      .then(() => {
        this.buffer = this.buffer.slice(batch.length);
        this.failures = 0;
      })
      .catch((error: unknown) => {
        this.failures += 1;
        this.options.onError(error, this.buffer.length);
      })
      .finally(() => {
        this.flushing = undefined;
        if (this.buffer.length > 0 && !this.closed) this.kick(this.failures > 0 ? Math.min(5000, 50 * 2 ** this.failures) : 0);
      });
    return this.flushing;
  }
}
