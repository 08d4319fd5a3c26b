import { type DynamicModule, Module } from '@nestjs/common';
import { EventStreamIngestionModule } from '@ussd/execution-feature';
import { AuthModule } from '@ussd/platform-auth';
import { PlatformModule, type PlatformContext } from '@ussd/platform-http';
import { IngestMetricsModule, MetricsController } from './ingest-metrics.js';

export const INGESTER_DEFAULTS = { appName: 'log-ingester', port: 3001 } as const;

/**
 * The log-ingester: consumes execution events from the Redis Stream (a consumer group that
 * every replica shares) and writes them to PostgreSQL in batches, one transaction each,
 * acknowledging after the commit (docs/log-ingester.md). Health probes come with the
 * platform; /metrics is Prometheus. Without REDIS_URL there is nothing to consume: it
 * starts, says so, and serves its probes.
 */
@Module({})
export class AppModule {
  static forRoot(context: PlatformContext): DynamicModule {
    return {
      module: AppModule,
      // AuthModule: the same default-deny guard as the api, so a route added here cannot be left open.
      imports: [PlatformModule.forRoot(context), AuthModule.forRoot({ developmentKey: false }), IngestMetricsModule, EventStreamIngestionModule.forRoot({ enabled: () => true })],
      controllers: [MetricsController],
    };
  }
}
