#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { deleteDeadLetters, listDeadLetters, redriveDeadLetters } from '@ussd/execution-data-access';
import { loadConfigOrExit } from '@ussd/platform-config';
import { createDataSource, migrationStatus, openDatabase, revertLastMigration, runMigrations } from '@ussd/platform-database';
import { createLogger, type Logger } from '@ussd/platform-logging';
import { connectRedis } from '@ussd/platform-redis';

// Names the two ways the CLI really runs: there is no `ussd` executable on PATH.
const USAGE = `Usage: npm run cli -- <command> [options]   (builds it first; from the repository)
       node tools/dist/cli.js <command> [options]  (once built, as in the container image)

Commands:
  migrate            apply every pending migration
  revert             revert the most recently applied migration
  status [--check]   list applied and pending migrations; --check exits 1 if any is pending
  dead-letters list [--limit N] [--after ID]
                     execution events the log-ingester could not write, oldest first, with the error
  dead-letters redrive ID... | --all
                     put dead letters back on the event stream (same event: written at most once)
  dead-letters delete ID...
                     remove dead letters for good

The database is DATABASE_URL, or the api's embedded PostgreSQL (EMBEDDED_PG_DIR) when it is unset.
Dead letters are in Redis (REDIS_URL), beside the event stream (REDIS_KEY_PREFIX, EVENT_STREAM_KEY).
`;

const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

function usageError(message: string): number {
  process.stderr.write(`${message}\n\n${USAGE}`);
  return 2;
}

/** `dead-letters list|redrive|delete`: exit 0 done, 1 failed (or some ids not found), 2 bad usage. */
async function deadLetters(args: string[], options: { limit?: string | undefined; after?: string | undefined; all?: boolean | undefined }): Promise<number> {
  const [action, ...ids] = args;
  if (action === undefined || !['list', 'redrive', 'delete'].includes(action)) {
    return usageError(action === undefined ? 'dead-letters: say list, redrive or delete.' : `Unknown dead-letters action: ${JSON.stringify(action.slice(0, 40))}`);
  }
  const bad = ids.find((id) => !STREAM_ID.test(id));
  if (bad !== undefined) return usageError(`Not a dead-letter id: ${JSON.stringify(bad.slice(0, 60))} (ids look like 1700000000000-0).`);
  if (action === 'list') {
    if (ids.length > 0 || options.all) return usageError('dead-letters list takes only --limit and --after.');
    if (options.limit !== undefined && !/^\d{1,5}$/.test(options.limit)) return usageError(`--limit: expected an integer from 1 to 10000, got ${JSON.stringify(options.limit.slice(0, 40))}`);
    if (options.after !== undefined && !STREAM_ID.test(options.after)) return usageError(`--after: not a dead-letter id: ${JSON.stringify(options.after.slice(0, 60))}`);
  } else {
    if (options.limit !== undefined || options.after !== undefined) return usageError(`dead-letters ${action} takes ids${action === 'redrive' ? ' or --all' : ''}, not --limit or --after.`);
    if (action === 'delete' && options.all) return usageError('dead-letters delete takes ids, not --all.');
    if (ids.length === 0 && !options.all) return usageError(`dead-letters ${action}: give the ids${action === 'redrive' ? ' (or --all)' : ''}.`);
    if (ids.length > 0 && options.all) return usageError('Give ids or --all, not both.');
  }
  const limit = Number(options.limit ?? 100);
  if (action === 'list' && (limit < 1 || limit > 10_000)) return usageError(`--limit: expected an integer from 1 to 10000, got ${limit}`);

  const config = loadConfigOrExit({ appName: 'api', port: 0 });
  if (config.redis.url === undefined) {
    process.stderr.write('Dead letters are kept in Redis: set REDIS_URL (and REDIS_KEY_PREFIX if the deployment uses one).\n');
    return 1;
  }
  const logger: Logger = createLogger({ name: 'ussd-cli', level: 'silent', format: 'json' });
  const redis = await connectRedis(config.redis.url, { connectionName: 'ussd-cli', logger, overrides: { maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false } });
  const stream = config.events.streamKey;
  let connectionError: Error | undefined;
  redis.on('error', (error: Error) => (connectionError ??= error));
  try {
    await redis.connect();
    if (action === 'list') {
      const letters = await listDeadLetters(redis, stream, { limit, ...(options.after ? { after: options.after } : {}) });
      for (const l of letters) {
        process.stdout.write(`${l.id}  failures=${l.failures}  source=${l.sourceId}  dead-at=${l.deadAt}  consumer=${l.consumer}\n  error: ${l.error}\n  event: ${l.event.length > 500 ? `${l.event.slice(0, 500)}…` : l.event}\n`);
      }
      process.stdout.write(`${letters.length} dead letter(s)${letters.length === limit ? ` (more may follow: --after ${letters.at(-1)?.id})` : ''}\n`);
      return 0;
    }
    const result = action === 'redrive' ? await redriveDeadLetters(redis, stream, options.all ? 'all' : ids) : await deleteDeadLetters(redis, stream, ids);
    process.stdout.write(`${action === 'redrive' ? 'Redriven' : 'Deleted'}: ${result.redriven.length}${result.redriven.length > 0 ? ` (${result.redriven.join(' ')})` : ''}\n`);
    if (result.missing.length > 0) process.stderr.write(`Not found: ${result.missing.join(' ')}\n`);
    return result.missing.length > 0 ? 1 : 0;
  } catch (error) {
    process.stderr.write(`dead-letters ${action} failed: ${(connectionError ?? (error as Error)).message.slice(0, 300)}\n`);
    return 1;
  } finally {
    redis.disconnect();
  }
}

/** Exit codes: 0 done, 1 failed (or pending with --check), 2 bad usage, 78 bad configuration. */
async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, limit: { type: 'string' }, after: { type: 'string' }, all: { type: 'boolean' } },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message.slice(0, 200)}\n\n${USAGE}`);
    return 2;
  }
  const [command, ...extra] = parsed.positionals;
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (command === 'dead-letters') return deadLetters(extra, parsed.values);
  if (parsed.values.limit !== undefined || parsed.values.after !== undefined || parsed.values.all) return usageError(`${command ?? 'No command'}: --limit, --after and --all belong to dead-letters.`);
  if (command === undefined || !['migrate', 'revert', 'status'].includes(command) || extra.length > 0) {
    process.stderr.write(`${command === undefined ? 'No command given.' : `Unknown command: ${JSON.stringify([command, ...extra].join(' ')).slice(0, 80)}`}\n\n${USAGE}`);
    return 2;
  }

  // Same defaults as the api, so the CLI migrates the database `npm start` uses.
  const config = loadConfigOrExit({ appName: 'api', port: 0 });
  const logger = createLogger({ name: 'ussd-cli', level: config.log.level === 'info' ? 'warn' : config.log.level, format: config.log.format });
  // openDatabase checks DATABASE_URL with one connection (or starts the embedded server) and
  // throws a sentence naming the fix: an operator gets that line, not a stack trace.
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase(config, logger);
  } catch (error) {
    process.stderr.write(`${command} failed: ${(error as Error).message}\n`);
    return 1;
  }
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
