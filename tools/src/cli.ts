#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@ussd/platform-config';
import { createDataSource, migrationStatus, openDatabase, revertLastMigration, runMigrations } from '@ussd/platform-database';
import { createLogger } from '@ussd/platform-logging';

const USAGE = `Usage: ussd <command> [options]

Commands:
  migrate            apply every pending migration
  revert             revert the most recently applied migration
  status [--check]   list applied and pending migrations; --check exits 1 if any is pending

The database is DATABASE_URL, or the api's embedded PostgreSQL (EMBEDDED_PG_DIR) when it is unset.
`;

/** Exit codes: 0 done, 1 failed (or pending with --check), 2 bad usage, 78 bad configuration. */
async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (error) {
    process.stderr.write(`${(error as Error).message.slice(0, 200)}\n\n${USAGE}`);
    return 2;
  }
  const [command, ...extra] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === undefined || !['migrate', 'revert', 'status'].includes(command) || extra.length > 0) {
    process.stderr.write(`${command === undefined ? 'No command given.' : `Unknown command: ${JSON.stringify([command, ...extra].join(' ')).slice(0, 80)}`}\n\n${USAGE}`);
    return 2;
  }

  // Same defaults as the api, so the CLI migrates the database `npm start` uses.
  const config = loadConfigOrExit({ appName: 'api', port: 0 });
  const logger = createLogger({ name: 'ussd-cli', level: config.log.level === 'info' ? 'warn' : config.log.level, format: config.log.format });
  const database = await openDatabase(config, logger);
  const dataSource = createDataSource(database.url, config.database, 'ussd-cli');
  try {
    await dataSource.initialize();
    switch (command) {
      case 'migrate': {
        const applied = await runMigrations(dataSource, logger);
        process.stdout.write(applied.length === 0 ? 'Schema is up to date.\n' : `Applied ${applied.length} migration(s):\n${applied.map((m) => `  ${m}\n`).join('')}`);
        return 0;
      }
      case 'revert': {
        const reverted = await revertLastMigration(dataSource, logger);
        process.stdout.write(reverted === undefined ? 'Nothing to revert.\n' : `Reverted ${reverted}.\n`);
        return 0;
      }
      default: {
        const { applied, pending } = await migrationStatus(dataSource);
        for (const name of applied) process.stdout.write(`applied  ${name}\n`);
        for (const name of pending) process.stdout.write(`pending  ${name}\n`);
        process.stdout.write(`${applied.length} applied, ${pending.length} pending\n`);
        return parsed.values.check && pending.length > 0 ? 1 : 0;
      }
    }
  } catch (error) {
    process.stderr.write(`${command} failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.stop();
  }
}

process.exitCode = await main(process.argv.slice(2));
