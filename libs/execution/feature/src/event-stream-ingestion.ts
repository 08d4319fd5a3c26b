import { type BeforeApplicationShutdown, type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { type ConsumerObserver, EventStreamConsumer, ExecutionLogIngestor } from '@ussd/execution-data-access';
import { InjectConfig, type PlatformConfig } from '@ussd/platform-config';
import { InjectLogger, type Logger } from '@ussd/platform-logging';
import { connectRedis } from '@ussd/platform-redis';

/** Optional: what the consumer reports (the log-ingester's metrics). */
export const INGEST_OBSERVER = Symbol('INGEST_OBSERVER');
const INGEST_ENABLED = Symbol('INGEST_ENABLED');

/**
 * The consumer of the execution event stream in this process (the log-ingester; in
 * development also the api, EVENT_INGEST_IN_API). It has its own Redis connection, because a
 * blocking XREADGROUP holds one, and writes through the same ExecutionLogIngestor as the
 * in-process path. It starts after the app is up and, at shutdown, finishes and acknowledges
 * the batch in hand before the pools close.
 */
@Injectable()
export class EventStreamIngestion implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: EventStreamConsumer | undefined;
  private connection: Redis | undefined;

  constructor(
    @InjectConfig() private readonly config: PlatformConfig,
    @InjectLogger() private readonly logger: Logger,
    @Inject(getDataSourceToken()) private readonly dataSource: DataSource,
    @Inject(INGEST_ENABLED) private readonly enabled: (config: PlatformConfig) => boolean,
    @Optional() @Inject(INGEST_OBSERVER) private readonly observer?: ConsumerObserver,
  ) {}

  /** This replica's consumer name (INGEST_CONSUMER_NAME, or host name and process id). */
  get consumerName(): string {
    return this.config.ingest.consumerName ?? `${hostname()}-${process.pid}`;
  }

  /** Undefined when this process does not consume (no REDIS_URL, or not enabled). */
  get health(): EventStreamConsumer['health'] | undefined {
    return this.consumer?.health;
  }

  get active(): boolean {
    return this.consumer !== undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    const url = this.config.redis.url;
    if (url === undefined || !this.enabled(this.config)) return;
    this.connection = await connectRedis(url, { connectionName: `${this.config.appName}-ingest`, logger: this.logger });
    await this.connection.connect().catch((error: Error) => this.logger.warn({ err: error }, 'redis not reachable at start-up; the event consumer will keep retrying'));
    const ingestor = new ExecutionLogIngestor(this.dataSource);
    this.consumer = new EventStreamConsumer(this.connection, {
      streamKey: this.config.events.streamKey,
      group: this.config.ingest.consumerGroup,
      consumer: this.consumerName,
      batchSize: this.config.ingest.batchSize,
      blockMs: this.config.ingest.blockMs,
      claimIdleMs: this.config.ingest.claimIdleMs,
      maxDeliveries: this.config.ingest.maxDeliveries,
      maxLength: this.config.events.streamMaxLength,
      ingest: (events) => ingestor.ingest(events),
      logger: this.logger.child({ component: 'event-consumer' }),
      ...(this.observer ? { observer: this.observer } : {}),
    });
    this.consumer.start();
    this.logger.info(
      { stream: this.config.events.streamKey, group: this.config.ingest.consumerGroup, consumer: this.consumerName, batchSize: this.config.ingest.batchSize },
      'consuming execution events',
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
    await this.connection?.quit().catch(() => this.connection?.disconnect());
  }
}

/** The event-stream consumer; `enabled` decides from the configuration whether this process runs one. */
@Module({})
export class EventStreamIngestionModule {
  static forRoot(options: { enabled: (config: PlatformConfig) => boolean }): DynamicModule {
    return {
      module: EventStreamIngestionModule,
      providers: [{ provide: INGEST_ENABLED, useValue: options.enabled }, EventStreamIngestion],
      exports: [EventStreamIngestion],
    };
  }
}
