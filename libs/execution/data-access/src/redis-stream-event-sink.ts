import type { Redis } from 'ioredis';
import type { EventSinkBackPressure, ExecutionEvent, ExecutionEventSink } from '@ussd/execution-domain';
import { encodeStreamEvent, EVENT_FIELD } from './event-stream.js';

export interface RedisStreamEventSinkOptions {
  /** The stream (already prefixed). */
  readonly streamKey: string;
  /**
   * Events held in memory that Redis has not yet accepted (EVENT_PRODUCER_BUFFER_MAX). It rides
   * out a short blip; past it emit() throws and the engine fails the execution (events.unavailable).
   */
  readonly maxBuffered: number;
  /** XADDs per pipelined round trip. */
  readonly batchSize?: number;
  readonly onError: (error: unknown, pending: number) => void;
  readonly onRecovered?: (pending: number) => void;
}

export class EventStreamUnavailableError extends Error {
  constructor(limit: number) {
    super(`execution event buffer is full (${limit} events not yet accepted by Redis): Redis is unreachable or too slow`);
    this.name = 'EventStreamUnavailableError';
  }
}

/** Connection states in which a write cannot succeed now. */
const DOWN = new Set(['reconnecting', 'close', 'end']);

/**
 * The api's event sink with REDIS_URL: emit() only appends to memory (the engine never waits on
 * a write), and the events are appended to the stream in order with pipelined XADDs on the next
 * turn of the event loop, so an event is durable in Redis within one round trip. The stream is
 * never trimmed here: the log-ingester trims only what its consumer group has acknowledged.
 *
 * While Redis is unreachable `saturated` is true (callers refuse new executions with 503),
 * running executions keep emitting into the bounded buffer, failed writes are retried with
 * backoff, and past the bound emit() throws. A write whose reply was lost may be appended
 * twice; the ingester is idempotent on eventId, so PostgreSQL still gets it once.
 */
export class RedisStreamEventSink implements ExecutionEventSink, EventSinkBackPressure {
  private buffer: string[] = [];
  private writing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private failures = 0;
  private lastError: string | undefined;
  private closed = false;
  private readonly batchSize: number;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisStreamEventSinkOptions,
  ) {
    this.batchSize = options.batchSize ?? 500;
  }

  get pending(): number {
    return this.buffer.length;
  }

  /** Redis unreachable (the last write failed, or the connection is down), or half the buffer used. */
  get saturated(): boolean {
    return this.failures > 0 || DOWN.has(this.redis.status) || this.buffer.length >= this.options.maxBuffered / 2;
  }

  get saturationReason(): string | undefined {
    if (this.failures > 0 || DOWN.has(this.redis.status)) return `Redis is unreachable${this.lastError ? ` (${this.lastError})` : ''}: execution events cannot be streamed`;
    return this.saturated ? 'Redis is not accepting execution events fast enough' : undefined;
  }

  emit(event: ExecutionEvent): void {
    if (this.closed) throw new Error('execution event sink is closed');
    // The stream carries what the logs keep (docs/architecture.md, "Execution events": started / node finished / finished).
    // Pause and resume markers change no row, and are a third of a USSD hop's events.
    if (event.type === 'execution.paused' || event.type === 'execution.resumed') return;
    if (this.buffer.length >= this.options.maxBuffered) throw new EventStreamUnavailableError(this.options.maxBuffered);
    this.buffer.push(encodeStreamEvent(event));
    this.schedule(0);
  }

  /** Waits until every event emitted so far is in Redis; throws if that takes longer than `deadlineMs`. */
  async flush(deadlineMs = 10_000): Promise<void> {
    const deadline = Date.now() + deadlineMs;
    while (this.buffer.length > 0 || this.writing) {
      if (Date.now() > deadline) throw new Error(`could not append ${this.buffer.length} execution events to Redis within ${deadlineMs} ms${this.lastError ? `: ${this.lastError}` : ''}`);
      if (this.writing) {
        // A write stuck on a reconnecting client must not hold shutdown past the deadline.
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()) + 1)));
        await Promise.race([this.writing, late]).finally(() => clearTimeout(timer));
      } else {
        this.cancelTimers();
        await this.write();
        if (this.failures > 0) await new Promise((r) => setTimeout(r, Math.min(500, 50 * 2 ** this.failures)));
      }
    }
  }

  /** Stops taking events and appends what is left. */
  async close(deadlineMs = 10_000): Promise<void> {
    this.closed = true;
    await this.flush(deadlineMs);
  }

  private cancelTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private schedule(delayMs: number): void {
    if (this.writing || this.timer || this.immediate) return;
    if (delayMs === 0) {
      this.immediate = setImmediate(() => {
        this.immediate = undefined;
        void this.write();
      });
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.write();
    }, delayMs);
    this.timer.unref();
  }

  private write(): Promise<void> {
    if (this.writing) return this.writing;
    const batch = this.buffer.slice(0, this.batchSize);
    if (batch.length === 0) return Promise.resolve();
    const pipeline = this.redis.pipeline();
    for (const json of batch) pipeline.xadd(this.options.streamKey, '*', EVENT_FIELD, json);
    this.writing = pipeline
      .exec()
      .then((results) => {
        // Keep exactly the events whose XADD failed (in order) at the head; drop the rest.
        const failed = batch.filter((_, i) => results?.[i]?.[0] != null);
        this.buffer = failed.length === 0 ? this.buffer.slice(batch.length) : [...failed, ...this.buffer.slice(batch.length)];
        if (failed.length > 0) throw results?.find((r) => r[0] != null)?.[0] ?? new Error('XADD failed');
        if (this.failures > 0) this.options.onRecovered?.(this.buffer.length);
        this.failures = 0;
        this.lastError = undefined;
      })
      .catch((error: unknown) => {
        this.failures += 1;
        this.lastError = (error as Error).message?.slice(0, 200) ?? String(error);
        this.options.onError(error, this.buffer.length);
      })
      .finally(() => {
        this.writing = undefined;
        if (this.buffer.length > 0) this.schedule(this.failures > 0 ? Math.min(2000, 50 * 2 ** this.failures) : 0);
      });
    return this.writing;
  }
}
