import { type DynamicModule, Module } from '@nestjs/common';
import { type AppDefaults, PlatformConfigModule } from '@ussd/platform-config';
import { type DatabaseConnection, DatabaseModule } from '@ussd/platform-database';
import { HealthModule } from '@ussd/platform-health';
import { type Logger, LoggingModule } from '@ussd/platform-logging';
import { RedisModule } from '@ussd/platform-redis';

/** What an app's root module receives from `bootstrap`. */
export interface PlatformContext {
  readonly defaults: AppDefaults;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: Logger;
  readonly database: DatabaseConnection;
}

/** Configuration, logging, PostgreSQL, Redis and health probes: what every app imports first. */
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
      ],
      exports: [HealthModule],
    };
  }
}
