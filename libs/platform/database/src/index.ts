/**
 * @ussd/platform-database: PostgreSQL for every process.
 *
 * - `openDatabase(config)`: DATABASE_URL, or an embedded PostgreSQL when it is unset.
 * - `DatabaseModule.forRoot(connection)`: TypeORM DataSource for Nest apps; migrations at boot behind a flag.
 * - `createDataSource` / `runMigrations` / `revertLastMigration` / `migrationStatus`: for the CLI and tests.
 * - `MIGRATIONS`: the one ordered list of schema migrations (src/migrations).
 */
export * from './data-source.js';
export * from './database.js';
export * from './database.module.js';
export * from './embedded-postgres.js';
export * from './migrations.js';
export * from './typeorm-logger.js';
export { MIGRATIONS } from './migrations/index.js';
