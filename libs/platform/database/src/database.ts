import pg from 'pg';
import { type PlatformConfig, StartupError } from '@ussd/platform-config';
import { type Logger, redactUrl } from '@ussd/platform-logging';
import type { DatabaseConnection } from './data-source.js';
import { EmbeddedPostgres } from './embedded-postgres.js';

export interface DatabaseHandle extends DatabaseConnection {
  /** Stops the embedded server, if this process started one. */
  stop(): Promise<void>;
}

/** DATABASE_URL names a server that cannot be used; the message says why and what to do. */
export class DatabaseUnavailableError extends StartupError {
  override readonly name = 'DatabaseUnavailableError';
}

/** Connection-level failures worth another try: the server may be starting (a pod beside its database). */
const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EAI_AGAIN', '57P03']);
const ATTEMPTS = 3;
const RETRY_DELAY_MS = 1000;

/**
 * DATABASE_URL when set (checked with one connection, so a wrong URL fails in one clear
 * line rather than deep inside the ORM); otherwise an embedded PostgreSQL in
 * EMBEDDED_PG_DIR, so that `npm start` works with no services at all. `shareRunning`: use the
 * embedded server a running app holds (the CLI beside `npm start`) instead of refusing.
 */
export async function openDatabase(config: PlatformConfig, logger: Logger, options: { readonly shareRunning?: boolean } = {}): Promise<DatabaseHandle> {
  if (config.database.url !== undefined) {
    logger.debug({ url: redactUrl(config.database.url) }, 'using PostgreSQL from DATABASE_URL');
    await checkDatabase(config.database.url, config.database.connectTimeoutMs);
    return { url: config.database.url, kind: 'external', stop: async () => undefined };
  }
  const server = await EmbeddedPostgres.start({
    dataDir: config.database.embedded.dir,
    port: config.database.embedded.port,
    logger: logger.child({ component: 'embedded-postgres' }),
    ...(options.shareRunning ? { shareRunning: true } : {}),
  });
  return { url: server.url, kind: 'embedded', stop: () => server.stop() };
}

async function checkDatabase(url: string, connectTimeoutMs: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: connectTimeoutMs });
    try {
      await client.connect();
      return;
    } catch (error) {
      const code = errorCode(error);
      if (attempt >= ATTEMPTS || !TRANSIENT.has(code)) throw databaseProblem(url, error, code);
      await new Promise((resolve) => setTimeout(resolve, RETRY_DELAY_MS));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  return /timeout/i.test((error as Error).message) ? 'ETIMEDOUT' : 'unknown';
}

function databaseProblem(url: string, error: unknown, code: string): DatabaseUnavailableError {
  const shown = redactUrl(url);
  const reason = (error as Error).message || code;
  const fix = (() => {
    switch (code) {
      case '28P01':
      case '28000':
        return 'fix the user or password in DATABASE_URL';
      case '3D000':
        return `create the database (createdb ${new URL(url).pathname.slice(1) || 'NAME'}) or fix DATABASE_URL`;
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return 'fix the host name in DATABASE_URL';
      default:
        return 'start PostgreSQL or fix DATABASE_URL (unset it to use the embedded PostgreSQL)';
    }
  })();
  return new DatabaseUnavailableError(`PostgreSQL at ${shown} cannot be used (${reason}): ${fix}.`, { cause: error });
}
