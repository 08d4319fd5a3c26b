import { type DynamicModule, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { type AppDefaults, PlatformConfigModule } from '@ussd/platform-config';
import { type DatabaseConnection, DatabaseModule } from '@ussd/platform-database';
import { HealthModule } from '@ussd/platform-health';
import { type Logger, LoggingModule } from '@ussd/platform-logging';
import { RedisModule } from '@ussd/platform-redis';
import { KnownQueryGuard } from './known-query.guard.js';
import { MetricsModule } from './metrics.js';
import { RateLimitModule } from './rate-limits.js';

/** What an app's root module receives from `bootstrap`. */
export interface PlatformContext {
  readonly defaults: AppDefaults;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly database: DatabaseConnection;
}

/**
 * Configuration, logging, PostgreSQL, Redis, health probes, the Prometheus registry and rate
 * limits: what every app imports first.
 * Also the request rules every route shares: unknown query parameters are refused (KnownQueryGuard).
 */
@Module({})
export class PlatformModule {
  static forRoot(context: PlatformContext): DynamicModule {
    return {
      module: PlatformModule,
      imports: [
        LoggingModule.forRoot(context.logger),
        PlatformConfigModule.forRoot({ defaults: context.defaults, env: context.env }),
        DatabaseModule.forRoot(context.database),
        RedisModule.forRoot(),
        HealthModule,
        MetricsModule,
        RateLimitModule,
      ],
      providers: [{ provide: APP_GUARD, useClass: KnownQueryGuard }],
      exports: [HealthModule],
    };
  }
}
