import { DataSource, type DataSourceOptions } from 'typeorm';
import type { PlatformConfig } from '@ussd/platform-config';
import type { Logger } from '@ussd/platform-logging';
import { MIGRATIONS } from './migrations/index.js';
import { PinoTypeOrmLogger } from './typeorm-logger.js';

/** Where the database came from: the embedded server or DATABASE_URL. */
export interface DatabaseConnection {
  readonly url: string;
  readonly kind: 'embedded' | 'external';
}

type EntityClass = abstract new (...args: never[]) => unknown;

/**
 * One place that turns configuration into TypeORM options, so the apps, the CLI and
 * the tests connect the same way: pooled, with timeouts, and never `synchronize`.
 */
export function dataSourceOptions(
  url: string,
  database: PlatformConfig['database'],
  applicationName: string,
  entities: readonly EntityClass[] = [],
  logger?: Logger,
): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: [...entities],
    migrations: MIGRATIONS,
    migrationsTableName: 'typeorm_migrations',
    migrationsTransactionMode: 'each',
    synchronize: false,
    migrationsRun: false,
    // Without a logger TypeORM prints failed queries to the console; with one, they go to pino.
    ...(logger ? { logger: new PinoTypeOrmLogger(logger), logging: ['error', 'warn', 'migration', 'schema', 'info', 'log'] as const, maxQueryExecutionTime: 1000 } : { logging: false }),
    extra: {
      max: database.poolMax,
      idleTimeoutMillis: database.idleTimeoutMs,
      connectionTimeoutMillis: database.connectTimeoutMs,
      statement_timeout: database.statementTimeoutMs === 0 ? undefined : database.statementTimeoutMs,
      application_name: applicationName,
    },
  };
}

export function createDataSource(...args: Parameters<typeof dataSourceOptions>): DataSource {
  return new DataSource(dataSourceOptions(...args));
}
