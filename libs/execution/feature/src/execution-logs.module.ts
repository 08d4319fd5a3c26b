import { type BeforeApplicationShutdown, Inject, Injectable, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import type { ExecutionEventSink } from '@ussd/execution-domain';
import { PLATFORM_CONFIG, type PlatformConfig } from '@ussd/platform-config';
import { BufferedEventWriter, ExecutionLogIngestor, ExecutionLogRepository, RedisStreamEventSink } from '@ussd/execution-data-access';
import { InjectLogger, type Logger, ROOT_LOGGER } from '@ussd/platform-logging';
import { REDIS_CLIENT } from '@ussd/platform-redis';
import { EventStreamIngestionModule } from './event-stream-ingestion.js';

/** The engine's event sink in this process. */
export const EXECUTION_EVENT_SINK = Symbol('EXECUTION_EVENT_SINK');

/**
 * Work that still emits events (running executions) registers here; at shutdown it is
 * drained first, then the buffered events are written, then the pools close.
 */
@Injectable()
export class EventProducers {
  private readonly drains: (() => Promise<void>)[] = [];

  register(drain: () => Promise<void>): void {
    this.drains.push(drain);
  }

  async drain(): Promise<void> {
    await Promise.allSettled(this.drains.map((drain) => drain()));
  }
}

@Injectable()
class FlushEventsOnShutdown implements BeforeApplicationShutdown {
  constructor(
    @Inject(EXECUTION_EVENT_SINK) private readonly writer: ExecutionEventSink & { readonly pending: number; close(): Promise<void> },
    private readonly producers: EventProducers,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  /** Before the pools close: running executions finish, then every event reaches the database. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.producers.drain();
    const pending = this.writer.pending;
    await this.writer.close().catch((error: unknown) => this.logger.error({ err: error, pending }, 'execution events lost at shutdown'));
  }
}

/**
 * Execution logs in this process: the ingestor and queries over the seed's tables, and the
 * engine's event sink. Without REDIS_URL (embedded default) the sink is in-process (a bounded
 * buffer written in batches by the same ingestor the log-ingester uses); with REDIS_URL it
 * appends to the Redis Stream (EVENT_STREAM_KEY) that the log-ingester consumes (and, with
 * EVENT_INGEST_IN_API, which is the default outside production, this process consumes it too).
 */
@Module({
  imports: [EventStreamIngestionModule.forRoot({ enabled: (config) => config.events.ingestInApi })],
  providers: [
    { provide: ExecutionLogIngestor, inject: [getDataSourceToken()], useFactory: (dataSource: DataSource) => new ExecutionLogIngestor(dataSource) },
    { provide: ExecutionLogRepository, inject: [getDataSourceToken()], useFactory: (dataSource: DataSource) => new ExecutionLogRepository(dataSource) },
    {
      provide: EXECUTION_EVENT_SINK,
      inject: [ExecutionLogIngestor, PLATFORM_CONFIG, ROOT_LOGGER, { token: REDIS_CLIENT, optional: true }],
      useFactory: (ingestor: ExecutionLogIngestor, config: PlatformConfig, logger: Logger, redis: Redis | null | undefined) =>
        redis
          ? new RedisStreamEventSink(redis, {
              streamKey: config.events.streamKey,
              maxBuffered: config.events.producerBufferMax,
              onError: (error, pending) => logger.warn({ err: error, pending }, 'appending execution events to Redis failed; retrying (new executions are refused meanwhile)'),
              onRecovered: (pending) => logger.info({ pending }, 'appending execution events to Redis works again'),
            })
          : new BufferedEventWriter(ingestor, {
              batchSize: config.execution.eventBatchSize,
              flushIntervalMs: config.execution.eventFlushMs,
              maxBuffered: config.execution.eventBufferMax,
              onError: (error, pending) => logger.warn({ err: error, pending }, 'writing execution events failed; retrying'),
            }),
    },
    EventProducers,
    FlushEventsOnShutdown,
  ],
  exports: [ExecutionLogRepository, EXECUTION_EVENT_SINK, EventProducers],
})
export class ExecutionLogsModule {}
