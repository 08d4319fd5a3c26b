import { type BeforeApplicationShutdown, Inject, Injectable, Module } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { PLATFORM_CONFIG, type PlatformConfig } from '@ussd/platform-config';
import { BufferedEventWriter, ExecutionLogIngestor, ExecutionLogRepository } from '@ussd/execution-data-access';
import { InjectLogger, type Logger, ROOT_LOGGER } from '@ussd/platform-logging';

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
    @Inject(EXECUTION_EVENT_SINK) private readonly writer: BufferedEventWriter,
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
 * in-process event path (a bounded buffer written in batches by the same ingestor the
 * log-ingester uses). The Redis Streams path replaces the sink when REDIS_URL is set
 * (log-ingester issue).
 */
@Module({
  providers: [
    { provide: ExecutionLogIngestor, inject: [getDataSourceToken()], useFactory: (dataSource: DataSource) => new ExecutionLogIngestor(dataSource) },
    { provide: ExecutionLogRepository, inject: [getDataSourceToken()], useFactory: (dataSource: DataSource) => new ExecutionLogRepository(dataSource) },
    {
      provide: EXECUTION_EVENT_SINK,
      inject: [ExecutionLogIngestor, PLATFORM_CONFIG, ROOT_LOGGER],
      useFactory: (ingestor: ExecutionLogIngestor, config: PlatformConfig, logger: Logger) =>
        new BufferedEventWriter(ingestor, {
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
