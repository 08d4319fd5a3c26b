import { type BeforeApplicationShutdown, type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap, Optional } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { ConsumerHeartbeat, ConsumerNameInUseError, type ConsumerObserver, EventStreamConsumer, ExecutionLogIngestor } from '@ussd/execution-data-access';
import { InjectConfig, type PlatformConfig, StartupError } from '@ussd/platform-config';
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
  private heartbeatConnection: Redis | undefined;
  private heartbeat: ConsumerHeartbeat | undefined;
  private name: string | undefined;

  constructor(
    @InjectConfig() private readonly config: PlatformConfig,
    @InjectLogger() private readonly logger: Logger,
    @Inject(getDataSourceToken()) private readonly dataSource: DataSource,
    @Inject(INGEST_ENABLED) private readonly enabled: (config: PlatformConfig) => boolean,
    @Optional() @Inject(INGEST_OBSERVER) private readonly observer?: ConsumerObserver,
  ) {}

  /**
   * This replica's consumer name: INGEST_CONSUMER_NAME, or the host name (the pod name in
   * Kubernetes), so a restarted process takes back its own pending entries at once. When
   * another live process already consumes under the host name, the host name and a random suffix.
   */
  get consumerName(): string {
    return this.name ?? this.config.ingest.consumerName ?? hostname();
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
    const reachable = await this.connection.connect().then(
      () => true,
      (error: Error) => {
        this.logger.warn({ err: error }, 'redis not reachable at start-up; the event consumer will keep retrying');
        return false;
      },
    );
    await this.startHeartbeat(url, reachable);
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
      heartbeatTtlMs: this.config.ingest.heartbeatTtlMs,
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

  /**
   * The heartbeat comes first: it decides the name (docs/log-ingester.md) and is written before
   * the first read, so no replica takes this consumer for dead. Redis unreachable at start: the
   * name is the configured or host name, unchecked, and the heartbeat is written once Redis is back.
   */
  private async startHeartbeat(url: string, reachable: boolean): Promise<void> {
    this.heartbeatConnection = await connectRedis(url, { connectionName: `${this.config.appName}-ingest-heartbeat`, logger: this.logger });
    this.heartbeat = new ConsumerHeartbeat(this.heartbeatConnection, {
      streamKey: this.config.events.streamKey,
      group: this.config.ingest.consumerGroup,
      ttlMs: this.config.ingest.heartbeatTtlMs,
      logger: this.logger.child({ component: 'event-consumer' }),
    });
    const explicit = this.config.ingest.consumerName;
    const preferred = explicit ?? hostname();
    try {
      if (!reachable) throw new Error('redis is not reachable');
      await this.heartbeatConnection.connect();
      this.name = await this.heartbeat.acquire(preferred, explicit === undefined ? () => `${preferred}-${randomUUID().slice(0, 8)}` : undefined);
    } catch (error) {
      if (error instanceof ConsumerNameInUseError) {
        this.heartbeatConnection.disconnect();
        this.connection?.disconnect();
        throw new StartupError(error.message);
      }
      this.logger.warn({ err: error, consumer: preferred }, 'the consumer name could not be checked at start-up (Redis unreachable); consuming under it unchecked, the heartbeat is written once Redis is back');
      this.name = preferred;
      this.heartbeat.assume(preferred);
      if (this.heartbeatConnection.status === 'wait') this.heartbeatConnection.connect().catch(() => undefined);
    }
    this.heartbeat.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
    await this.heartbeat?.stop();
    await this.heartbeatConnection?.quit().catch(() => this.heartbeatConnection?.disconnect());
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
