import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type PlatformContext } from '@ussd/platform-http';

export const INGESTER_DEFAULTS = { appName: 'log-ingester', port: 3001 } as const;

/**
 * The log-ingester: consumes execution events from a Redis Stream and writes them to
 * PostgreSQL in batches (the consumer arrives with the log-ingester issue). Today it
 * boots with the platform: config, logging, PostgreSQL, Redis and health probes.
 */
@Module({})
export class AppModule {
  static forRoot(context: PlatformContext): DynamicModule {
    return { module: AppModule, imports: [PlatformModule.forRoot(context)] };
  }
}
