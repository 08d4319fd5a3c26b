#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { deleteDeadLetters, listDeadLetters, redriveDeadLetters } from '@ussd/execution-data-access';
import { loadConfigOrExit } from '@ussd/platform-config';
import { createDataSource, migrationStatus, openDatabase, revertLastMigration, runMigrations } from '@ussd/platform-database';
import { ApiKeyInputError, ApiKeys, AuditLog, GrantInputError, GrantTeamNotFoundError, isGrantPattern, isRole, ROLES, ServiceCodeGrants } from '@ussd/platform-auth';
import { createLogger, type Logger } from '@ussd/platform-logging';
import { connectRedis } from '@ussd/platform-redis';
import { auditSecretChange, developmentKeyFile, developmentSecretsKey, SecretDecryptError, TeamSecrets } from '@ussd/platform-secrets';

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
  keys create --name NAME --role ROLE [--team TEAM] [--expires DATE|30d]
                     create an API key (roles: viewer, editor, publisher, admin; team: default);
                     the key is the last line printed, shown only this once
  keys list [--team TEAM]
                     keys with team, role, expiry and last use (never their secrets)
  keys revoke ID|PREFIX
                     revoke a key by its id or listed prefix (usk_…); refused from then on
  teams create NAME  add a team (lower-case letters, digits, dashes)
  teams list         the teams
  grants add --team TEAM --code PATTERN
                     let a team claim a USSD code (*384*12#) or the codes under a prefix (*384*)
  grants remove --team TEAM --code PATTERN
  grants list [--team TEAM]
  secrets list [--team TEAM]
                     secret names and key versions, never values
  secrets rotate-key [--batch N]
                     re-encrypt with the current SECRETS_KEYS key

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
      options: {
        check: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        limit: { type: 'string' },
        after: { type: 'string' },
        all: { type: 'boolean' },
        name: { type: 'string' },
        role: { type: 'string' },
        team: { type: 'string' },
        expires: { type: 'string' },
        code: { type: 'string' },
        batch: { type: 'string' },
      },
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
  if (command === 'secrets') return secrets(extra, { team: parsed.values.team, batch: parsed.values.batch, stray: [parsed.values.name, parsed.values.role, parsed.values.expires, parsed.values.limit, parsed.values.after, parsed.values.all, parsed.values.check, parsed.values.code] });
  if (parsed.values.batch !== undefined) return usageError(`${command ?? 'No command'}: --batch belongs to secrets rotate-key.`);
  if (parsed.values.limit !== undefined || parsed.values.after !== undefined || parsed.values.all) return usageError(`${command ?? 'No command'}: --limit, --after and --all belong to dead-letters.`);
  const identityOptions = { name: parsed.values.name, role: parsed.values.role, team: parsed.values.team, expires: parsed.values.expires, code: parsed.values.code };
  if (command === 'keys' || command === 'teams' || command === 'grants') {
    const problem = checkIdentityUsage(command, extra, identityOptions);
    if (problem !== undefined) return usageError(problem);
  } else if (Object.values(identityOptions).some((value) => value !== undefined)) {
    return usageError(`${command ?? 'No command'}: --name, --role, --team and --expires belong to keys, --code to grants.`);
  } else if (command === undefined || !['migrate', 'revert', 'status'].includes(command) || extra.length > 0) {
    process.stderr.write(`${command === undefined ? 'No command given.' : `Unknown command: ${JSON.stringify([command, ...extra].join(' ')).slice(0, 80)}`}\n\n${USAGE}`);
    return 2;
  }

  // Same defaults as the api, so the CLI works on the database `npm start` uses (while it runs, too).
  const config = loadConfigOrExit({ appName: 'api', port: 0 });
  const logger = createLogger({ name: 'ussd-cli', level: config.log.level === 'info' ? 'warn' : config.log.level, format: config.log.format });
  // openDatabase checks DATABASE_URL with one connection (or starts the embedded server) and
  // throws a sentence naming the fix: an operator gets that line, not a stack trace.
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase(config, logger, { shareRunning: true });
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
      case 'keys':
      case 'teams':
      case 'grants': {
        const { pending } = await migrationStatus(dataSource);
        if (pending.length > 0) {
          process.stderr.write(`${command} failed: the schema is not up to date (${pending.length} pending migration(s)): run \`npm run cli -- migrate\` first.\n`);
          return 1;
        }
        if (command === 'grants') return await grantsCommand(new ServiceCodeGrants(dataSource), extra, identityOptions);
        return await identityCommand(new ApiKeys(dataSource), new AuditLog(dataSource), command, extra, identityOptions);
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

/**
 * `secrets list|rotate-key`: exit 0 done, 1 failed (or secrets left on an old key), 2 bad usage.
 * The keys are SECRETS_KEYS, or the development key of `npm start` when neither it nor
 * DATABASE_URL is set.
 */
async function secrets(args: string[], options: { team: string | undefined; batch: string | undefined; stray: unknown[] }): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || !['list', 'rotate-key'].includes(action)) {
    return usageError(action === undefined ? 'secrets: say list or rotate-key.' : `Unknown secrets action: ${JSON.stringify(action.slice(0, 40))}`);
  }
  if (rest.length > 0) return usageError(`secrets ${action} takes no arguments, not ${JSON.stringify(rest.join(' ').slice(0, 60))}.`);
  if (options.stray.some((value) => value !== undefined)) return usageError(`secrets ${action} takes only ${action === 'list' ? '--team' : '--batch'}.`);
  if (action === 'list' && options.batch !== undefined) return usageError('secrets list takes only --team.');
  if (action === 'rotate-key' && options.team !== undefined) return usageError('secrets rotate-key takes only --batch (it re-encrypts every team\'s secrets).');
  if (options.batch !== undefined && (!/^\d{1,5}$/.test(options.batch) || Number(options.batch) < 1 || Number(options.batch) > 10_000)) {
    return usageError(`--batch: expected an integer from 1 to 10000, got ${JSON.stringify(options.batch.slice(0, 40))}`);
  }

  const config = loadConfigOrExit({ appName: 'api', port: 0 });
  const logger = createLogger({ name: 'ussd-cli', level: config.log.level === 'info' ? 'warn' : config.log.level, format: config.log.format });
  const devKey = developmentKeyFile(config.database.embedded.dir);
  const keys = config.secrets.keys ?? (config.database.url === undefined && config.nodeEnv !== 'production' && existsSync(devKey) ? developmentSecretsKey(devKey, logger) : undefined);
  if (action === 'rotate-key' && keys === undefined) {
    process.stderr.write('secrets rotate-key failed: no secrets key is configured: set SECRETS_KEYS (the new key first, then the old ones), as the api has it.\n');
    return 1;
  }
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase(config, logger, { shareRunning: true });
  } catch (error) {
    process.stderr.write(`secrets ${action} failed: ${(error as Error).message}\n`);
    return 1;
  }
  const dataSource = createDataSource(database.url, config.database, 'ussd-cli');
  try {
    await dataSource.initialize();
    const { pending } = await migrationStatus(dataSource);
    if (pending.length > 0) {
      process.stderr.write(`secrets ${action} failed: the schema is not up to date (${pending.length} pending migration(s)): run \`npm run cli -- migrate\` first.\n`);
      return 1;
    }
    const store = new TeamSecrets(dataSource, keys, (change, db) => auditSecretChange(change, db, null));
    if (action === 'list') {
      const list = await store.list(options.team);
      for (const s of list) process.stdout.write(`${s.team}  ${s.name}  key-version=${s.keyVersion}  updated=${s.updatedAt.toISOString()} by ${s.updatedBy}  created=${s.createdAt.toISOString()} by ${s.createdBy}\n`);
      process.stdout.write(`${list.length} secret(s)\n`);
      return 0;
    }
    const current = store.currentKeyVersion;
    const before = await store.countByKeyVersion();
    const total = [...before.values()].reduce((sum, count) => sum + count, 0);
    const stale = total - (before.get(current ?? 0) ?? 0);
    process.stdout.write(`Current key version ${current}; ${total} secret(s), ${stale} on older keys (${[...before].map(([version, count]) => `version ${version}: ${count}`).join(', ') || 'none'}).\n`);
    const { rotated } = await store.rotateKeys({
      batchSize: Number(options.batch ?? 100),
      by: { actor: `cli:${process.env['USER'] ?? 'operator'}`.slice(0, 255), actorKind: 'cli' },
      onBatch: (done, remaining) => process.stdout.write(`  re-encrypted ${done}, ${remaining} left\n`),
    });
    const after = await store.countByKeyVersion();
    const left = [...after].filter(([version]) => version !== current).reduce((sum, [, count]) => sum + count, 0);
    process.stdout.write(`Re-encrypted ${rotated} secret(s) with key version ${current}.\n`);
    if (left > 0) {
      process.stderr.write(`${left} secret(s) are still on older keys (written meanwhile by a process with an older SECRETS_KEYS?): run it again.\n`);
      return 1;
    }
    process.stdout.write(`Every secret uses key version ${current}: the other keys can be removed from SECRETS_KEYS.\n`);
    return 0;
  } catch (error) {
    const message = error instanceof SecretDecryptError ? `${error.message}; nothing of that batch was written` : (error as Error).message;
    process.stderr.write(`secrets ${action} failed: ${message}\n`);
    return 1;
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
    await database.stop();
  }
}

interface IdentityOptions {
  readonly name: string | undefined;
  readonly role: string | undefined;
  readonly team: string | undefined;
  readonly expires: string | undefined;
  readonly code: string | undefined;
}

/** Who the audit log records for a CLI change: the operating-system user. */
function cliActor(): { actor: string; actorKind: 'cli'; requestId: null } {
  return { actor: `cli:${process.env['USER'] ?? 'operator'}`.slice(0, 255), actorKind: 'cli', requestId: null };
}

/** Usage problems of `keys` and `teams`, found before any database is opened. */
function checkIdentityUsage(command: 'keys' | 'teams' | 'grants', args: string[], options: IdentityOptions): string | undefined {
  const [action, ...rest] = args;
  const given = Object.entries(options).filter(([, value]) => value !== undefined).map(([name]) => `--${name}`);
  const allowed: Record<string, { args: number; options: string[] }> =
    command === 'keys'
      ? { create: { args: 0, options: ['--name', '--role', '--team', '--expires'] }, list: { args: 0, options: ['--team'] }, revoke: { args: 1, options: [] } }
      : command === 'grants'
        ? { add: { args: 0, options: ['--team', '--code'] }, list: { args: 0, options: ['--team'] }, remove: { args: 0, options: ['--team', '--code'] } }
        : { create: { args: 1, options: [] }, list: { args: 0, options: [] } };
  const rule = action === undefined ? undefined : allowed[action];
  if (rule === undefined) return `${command}: say ${Object.keys(allowed).join(', ')}${action === undefined ? '' : ` (not ${JSON.stringify(action.slice(0, 40))})`}.`;
  if (rest.length !== rule.args) return `${command} ${action} takes ${rule.args === 0 ? 'no arguments' : 'one argument'}${rest.length > rule.args ? `, not ${JSON.stringify(rest.join(' ').slice(0, 60))}` : ''}.`;
  const stray = given.filter((option) => !rule.options.includes(option));
  if (stray.length > 0) return `${command} ${action} does not take ${stray.join(', ')}.`;
  if (command === 'keys' && action === 'create') {
    if (options.name === undefined) return 'keys create needs --name NAME (who or what the key is for).';
    if (options.role === undefined || !isRole(options.role)) return `keys create needs --role, one of ${ROLES.join(', ')}${options.role === undefined ? '' : ` (not ${JSON.stringify(options.role.slice(0, 40))})`}.`;
    if (options.expires !== undefined && parseExpiry(options.expires) === undefined) return `--expires: a date (2027-01-31, 2027-01-31T12:00:00Z) or a number of days (30d), in the future; got ${JSON.stringify(options.expires.slice(0, 40))}.`;
  }
  if (command === 'grants' && action !== 'list') {
    if (options.team === undefined) return `grants ${action} needs --team TEAM.`;
    if (options.code === undefined || !isGrantPattern(options.code)) {
      return `grants ${action} needs --code, an exact service code like '*384*12#' or a prefix ending in * like '*384*' (quote it in the shell)${options.code === undefined ? '' : `; got ${JSON.stringify(options.code.slice(0, 40))}`}.`;
    }
  }
  return undefined;
}

async function grantsCommand(grants: ServiceCodeGrants, args: string[], options: IdentityOptions): Promise<number> {
  // checkIdentityUsage has made sure --team and a well-formed --code are there for add and remove.
  const [action] = args;
  const team = options.team ?? '';
  const pattern = options.code ?? '';
  try {
    if (action === 'list') {
      const list = await grants.list(options.team);
      for (const g of list) process.stdout.write(`${g.team}  ${g.pattern}  created-by=${g.createdBy}  created=${g.createdAt.toISOString()}\n`);
      process.stdout.write(`${list.length} grant(s)\n`);
      return 0;
    }
    if (action === 'add') {
      const { added } = await grants.add(team, pattern, cliActor());
      process.stdout.write(added ? `Granted ${pattern} to team ${team}.\n` : `Team ${team} already holds ${pattern}.\n`);
      return 0;
    }
    if (!(await grants.remove(team, pattern, cliActor()))) {
      process.stderr.write(`Team ${team} holds no grant ${pattern} (see grants list --team ${team}).\n`);
      return 1;
    }
    process.stdout.write(`Removed grant ${pattern} from team ${team}.\n`);
    return 0;
  } catch (error) {
    if (error instanceof GrantInputError || error instanceof GrantTeamNotFoundError) {
      process.stderr.write(`grants ${action} failed: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

function parseExpiry(text: string): Date | undefined {
  const days = /^(\d{1,4})d$/.exec(text);
  const date = days ? new Date(Date.now() + Number(days[1]) * 86_400_000) : /^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) ? new Date(text) : undefined;
  return date !== undefined && Number.isFinite(date.getTime()) && date.getTime() > Date.now() ? date : undefined;
}

async function identityCommand(keys: ApiKeys, audit: AuditLog, command: 'keys' | 'teams', args: string[], options: IdentityOptions): Promise<number> {
  // checkIdentityUsage has made sure what each action needs is there.
  const [action, argument = ''] = args;
  try {
    if (command === 'teams') {
      if (action === 'list') {
        for (const team of await keys.listTeams()) process.stdout.write(`${team}\n`);
        return 0;
      }
      const created = await keys.createTeam(argument);
      if (created) await audit.record({ ...cliActor(), team: argument, action: 'team.create', targetType: 'team', targetId: argument });
      process.stdout.write(created ? `Created team ${argument}.\n` : `Team ${argument} already exists.\n`);
      return 0;
    }
    if (action === 'create') {
      const expiresAt = options.expires === undefined ? undefined : parseExpiry(options.expires);
      const { key, record } = await keys.create({
        name: options.name ?? '',
        role: options.role as (typeof ROLES)[number],
        team: options.team ?? 'default',
        createdBy: cliActor().actor,
        ...(expiresAt === undefined ? {} : { expiresAt }),
      });
      // The key's id, name and role: never the key.
      await audit.record({ ...cliActor(), team: record.team, action: 'key.create', targetType: 'api-key', targetId: record.id, details: { name: record.name, role: record.role, expiresAt: record.expiresAt?.toISOString() ?? null } });
      process.stdout.write(
        `Created key ${record.id} (${record.prefix}…): name ${record.name}, team ${record.team}, role ${record.role}, ${record.expiresAt ? `expires ${record.expiresAt.toISOString()}` : 'no expiry'}.\n` +
          `Send it as "Authorization: Bearer <key>". It is shown only now; keep it in a secret store.\n${key}\n`,
      );
      return 0;
    }
    if (action === 'list') {
      const list = await keys.list(options.team);
      for (const k of list) {
        const state = k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : k.expiresAt && k.expiresAt.getTime() <= Date.now() ? `expired ${k.expiresAt.toISOString()}` : 'live';
        process.stdout.write(
          `${k.id}  ${k.prefix}…  team=${k.team}  role=${k.role}  name=${JSON.stringify(k.name)}  ${state}  expires=${k.expiresAt?.toISOString() ?? 'never'}  last-used=${k.lastUsedAt?.toISOString() ?? 'never'}\n`,
        );
      }
      process.stdout.write(`${list.length} key(s)\n`);
      return 0;
    }
    const revoked = await keys.revoke(argument);
    if (revoked === undefined) {
      process.stderr.write(`No live key with id or prefix ${JSON.stringify(argument.slice(0, 60))} (see keys list).\n`);
      return 1;
    }
    await audit.record({ ...cliActor(), team: revoked.team, action: 'key.revoke', targetType: 'api-key', targetId: revoked.id, details: { name: revoked.name } });
    process.stdout.write(`Revoked ${revoked.id} (${revoked.prefix}…, ${revoked.name}, team ${revoked.team}).\n`);
    return 0;
  } catch (error) {
    if (error instanceof ApiKeyInputError) {
      process.stderr.write(`${command} ${action} failed: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

process.exitCode = await main(process.argv.slice(2));
