import type { DataSource } from 'typeorm';
import { parseConfig } from '@ussd/platform-config';
import { createDataSource, migrateDatabase } from '@ussd/platform-database';
import { createTestDatabase, silentLogger, type TestDatabase } from '@ussd/platform-testing';

export interface MigratedDatabase {
  readonly database: TestDatabase;
  readonly dataSource: DataSource;
  close(): Promise<void>;
}

/** A fresh, migrated database and a DataSource on it (optionally through another URL, e.g. a proxy). */
export async function openMigratedDatabase(options: { url?: (databaseUrl: string) => string; env?: Record<string, string> } = {}): Promise<MigratedDatabase> {
  const database = await createTestDatabase();
  await migrateDatabase(database.url, silentLogger());
  const config = parseConfig(options.env ?? {}, { appName: 'test', port: 0 }).database;
  const dataSource = await createDataSource(options.url ? options.url(database.url) : database.url, config, 'test').initialize();
  return {
    database,
    dataSource,
    close: async () => {
      await dataSource.destroy();
      await database.drop();
    },
  };
}
