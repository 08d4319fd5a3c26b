import { Controller, Get, Global, Header, Injectable, Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type ConsumerObserver, streamStats } from '@ussd/execution-data-access';
import type { ExecutionEvent } from '@ussd/execution-domain';
import { EventStreamIngestion, INGEST_OBSERVER } from '@ussd/execution-feature';
import { InjectConfig, type PlatformConfig } from '@ussd/platform-config';
import { InjectRedis } from '@ussd/platform-redis';
import { Public } from '@ussd/platform-auth';

/** Window over which `ingest_rows_per_second` is computed. */
const RATE_WINDOW_MS = 10_000;

/**
 * The log-ingester's Prometheus metrics. Counters and histograms are fed by the consumer
 * (ConsumerObserver); the stream figures (length, pending, lag, dead letters) are read from
 * Redis at each scrape, so they are true for the whole group, not just this replica.
 */
@Injectable()
export class IngestMetrics implements ConsumerObserver {
  readonly registry = new Registry();
  private readonly streamLength = new Gauge({ name: 'ingest_stream_length', help: 'Entries in the execution event stream (acknowledged ones stay until trimmed).', registers: [this.registry] });
  private readonly pending = new Gauge({ name: 'ingest_pending_entries', help: 'Entries delivered to a consumer of the group and not yet acknowledged.', registers: [this.registry] });
  private readonly lag = new Gauge({ name: 'ingest_consumer_lag_entries', help: 'Entries not yet delivered to the consumer group (Redis XINFO GROUPS lag).', registers: [this.registry] });
  private readonly deadLetterLength = new Gauge({ name: 'ingest_dead_letter_entries', help: 'Entries in the dead-letter stream.', registers: [this.registry] });
  private readonly redisUp = new Gauge({ name: 'ingest_redis_up', help: '1 when the stream figures could be read from Redis at this scrape.', registers: [this.registry] });
  private readonly consumerUp = new Gauge({ name: 'ingest_consumer_healthy', help: '1 while this replica reads and writes without failing.', registers: [this.registry] });
  private readonly events = new Counter({ name: 'ingest_events_total', help: 'Execution events written (committed and acknowledged) by this replica.', registers: [this.registry] });
  private readonly rows = new Counter({ name: 'ingest_rows_total', help: 'Rows written by this replica, by table (execution_logs: rows touched; node_execution_logs: rows inserted).', labelNames: ['table'], registers: [this.registry] });
  private readonly rowsPerSecond = new Gauge({ name: 'ingest_rows_per_second', help: `Rows written per second by this replica over the last ${RATE_WINDOW_MS / 1000} s.`, registers: [this.registry] });
  private readonly batchSeconds = new Histogram({
    name: 'ingest_batch_duration_seconds',
    help: 'Time to write one batch (transaction and XACK).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly eventLag = new Histogram({
    name: 'ingest_event_lag_seconds',
    help: 'From the event being made (occurredAt) to its row being committed.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly deadLetteredTotal = new Counter({ name: 'ingest_dead_lettered_total', help: 'Entries this replica moved to the dead-letter stream.', registers: [this.registry] });
  private readonly failures = new Counter({ name: 'ingest_write_failures_total', help: 'Failed batch writes: transient (retried with backoff) or data (isolating a poison entry).', labelNames: ['kind'], registers: [this.registry] });
  private recent: { at: number; rows: number }[] = [];

  constructor(
    @InjectConfig() private readonly config: PlatformConfig,
    @InjectRedis() private readonly redis: Redis | null,
  ) {
    collectDefaultMetrics({ register: this.registry });
    this.failures.inc({ kind: 'transient' }, 0);
    this.failures.inc({ kind: 'data' }, 0);
    this.rows.inc({ table: 'execution_logs' }, 0);
    this.rows.inc({ table: 'node_execution_logs' }, 0);
  }

  batchWritten(info: { entries: number; result: { executionsTouched: number; nodeRowsInserted: number }; seconds: number; events: readonly ExecutionEvent[] }): void {
    const now = Date.now();
    this.events.inc(info.entries);
    this.rows.inc({ table: 'execution_logs' }, info.result.executionsTouched);
    this.rows.inc({ table: 'node_execution_logs' }, info.result.nodeRowsInserted);
    this.batchSeconds.observe(info.seconds);
    for (const event of info.events) {
      const made = Date.parse(event.occurredAt);
      if (Number.isFinite(made)) this.eventLag.observe(Math.max(0, now - made) / 1000);
    }
    this.recent.push({ at: now, rows: info.result.executionsTouched + info.result.nodeRowsInserted });
  }

  deadLettered(count: number): void {
    this.deadLetteredTotal.inc(count);
  }

  writeFailed(transient: boolean): void {
    this.failures.inc({ kind: transient ? 'transient' : 'data' });
  }

  /** Reads the group's figures from Redis (bounded by HEALTH_CHECK_TIMEOUT_MS) and the local rate, then renders. */
  async render(health: { healthy: boolean } | undefined): Promise<string> {
    const now = Date.now();
    this.recent = this.recent.filter((r) => r.at > now - RATE_WINDOW_MS);
    this.rowsPerSecond.set(this.recent.reduce((sum, r) => sum + r.rows, 0) / (RATE_WINDOW_MS / 1000));
    this.consumerUp.set(health?.healthy ? 1 : 0);
    const stats = this.redis
      ? await Promise.race([
          streamStats(this.redis, this.config.events.streamKey, this.config.ingest.consumerGroup).catch(() => undefined),
          new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), this.config.health.timeoutMs).unref()),
        ])
      : undefined;
    for (const gauge of [this.streamLength, this.pending, this.lag, this.deadLetterLength]) gauge.reset();
    this.redisUp.set(stats ? 1 : 0);
    if (stats) {
      this.streamLength.set(stats.length);
      this.pending.set(stats.pending);
      if (stats.lag !== null) this.lag.set(stats.lag);
      this.deadLetterLength.set(stats.deadLetters);
    }
    return this.registry.metrics();
  }
}

@Public('Prometheus scrapes it on the internal network; it holds counts and durations, no data')
@Controller()
export class MetricsController {
  constructor(
    private readonly metrics: IngestMetrics,
    private readonly ingestion: EventStreamIngestion,
  ) {}

  /** Prometheus text format. Takes no parameters: anything in the query string is refused (400, KnownQueryGuard), so a typo is not silently ignored. */
  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8')
  @Header('Cache-Control', 'no-store')
  async scrape(): Promise<string> {
    return this.metrics.render(this.ingestion.health);
  }
}

/** The metrics and the consumer's observer (INGEST_OBSERVER); the app declares MetricsController. */
@Global()
@Module({
  providers: [IngestMetrics, { provide: INGEST_OBSERVER, useExisting: IngestMetrics }],
  exports: [IngestMetrics, INGEST_OBSERVER],
})
export class IngestMetricsModule {}
