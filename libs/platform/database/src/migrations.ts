import { type DataSource, MigrationExecutor } from 'typeorm';
import { parseConfig } from '@ussd/platform-config';
import type { Logger } from '@ussd/platform-logging';
import { createDataSource } from './data-source.js';

/** Arbitrary, fixed key: every process migrating this database takes the same lock. */
const MIGRATION_LOCK_KEY = 7_390_214_651;

export interface MigrationStatus {
  readonly applied: readonly string[];
  readonly pending: readonly string[];
}

export async function migrationStatus(dataSource: DataSource): Promise<MigrationStatus> {
  const executor = new MigrationExecutor(dataSource);
  const [applied, pending] = await Promise.all([executor.getExecutedMigrations(), executor.getPendingMigrations()]);
  return { applied: applied.map((m) => m.name).reverse(), pending: pending.map((m) => m.name) };
}

/**
 * Applies pending migrations, each in its own transaction, holding a PostgreSQL
 * advisory lock so that replicas starting together migrate once, one after another.
 */
export async function runMigrations(dataSource: DataSource, logger: Logger): Promise<string[]> {
  return withMigrationLock(dataSource, async () => {
    const done = await dataSource.runMigrations({ transaction: 'each' });
    for (const migration of done) logger.info({ migration: migration.name }, 'migration applied');
    return done.map((m) => m.name);
  });
}

/** Reverts the most recently applied migration; returns its name, or undefined if none. */
export async function revertLastMigration(dataSource: DataSource, logger: Logger): Promise<string | undefined> {
  return withMigrationLock(dataSource, async () => {
    const { applied } = await migrationStatus(dataSource);
    const last = applied.at(-1);
    if (last === undefined) return undefined;
    await dataSource.undoLastMigration({ transaction: 'each' });
    logger.info({ migration: last }, 'migration reverted');
    return last;
  });
}

async function withMigrationLock<T>(dataSource: DataSource, fn: () => Promise<T>): Promise<T> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      return await fn();
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await runner.release();
  }
}

/** Connects to `url` with default pool settings, applies pending migrations, disconnects. */
export async function migrateDatabase(url: string, logger: Logger): Promise<string[]> {
  const { database } = parseConfig({}, { appName: 'migrate', port: 0 });
  const dataSource = await createDataSource(url, database, 'migrate').initialize();
  try {
    return await runMigrations(dataSource, logger);
  } finally {
    await dataSource.destroy();
  }
}
