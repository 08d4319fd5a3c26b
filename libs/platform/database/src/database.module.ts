import { type DynamicModule, Inject, Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PLATFORM_CONFIG, type PlatformConfig } from '@ussd/platform-config';
import { InjectLogger, type Logger, ROOT_LOGGER } from '@ussd/platform-logging';
import { type DatabaseConnection, dataSourceOptions } from './data-source.js';
import { runMigrations } from './migrations.js';

export const DATABASE_CONNECTION = Symbol('DATABASE_CONNECTION');

@Injectable()
class MigrateOnBoot implements OnModuleInit {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.config.database.migrateOnBoot) return;
    const applied = await runMigrations(this.dataSource, this.logger);
    this.logger.info({ applied: applied.length }, applied.length === 0 ? 'schema up to date' : 'migrations applied at boot');
  }
}

/**
 * The TypeORM DataSource for a Nest app (pooled, timeouts from config, no `synchronize`),
 * and migrations at boot when DATABASE_MIGRATE_ON_BOOT says so. Entities of the
 * domain libraries register themselves with TypeOrmModule.forFeature.
 */
@Module({})
export class DatabaseModule {
  static forRoot(connection: DatabaseConnection): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [PLATFORM_CONFIG, ROOT_LOGGER],
          useFactory: (config: PlatformConfig, logger: Logger) => ({
            ...dataSourceOptions(connection.url, config.database, config.appName, [], logger),
            autoLoadEntities: true,
            retryAttempts: 3,
            retryDelay: 1000,
          }),
        }),
      ],
      providers: [{ provide: DATABASE_CONNECTION, useValue: connection }, MigrateOnBoot],
      exports: [DATABASE_CONNECTION],
    };
  }
}
