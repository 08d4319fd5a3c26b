import type { PlatformConfig } from '@ussd/platform-config';
import { type Logger, redactUrl } from '@ussd/platform-logging';
import type { DatabaseConnection } from './data-source.js';
import { EmbeddedPostgres } from './embedded-postgres.js';

export interface DatabaseHandle extends DatabaseConnection {
  /** Stops the embedded server, if this process started one. */
  stop(): Promise<void>;
}

/**
 * DATABASE_URL when set; otherwise an embedded PostgreSQL in EMBEDDED_PG_DIR, so that
 * `npm start` works with no services at all.
 */
export async function openDatabase(config: PlatformConfig, logger: Logger): Promise<DatabaseHandle> {
  if (config.database.url !== undefined) {
    logger.debug({ url: redactUrl(config.database.url) }, 'using PostgreSQL from DATABASE_URL');
    return { url: config.database.url, kind: 'external', stop: async () => undefined };
  }
  const server = await EmbeddedPostgres.start({
    dataDir: config.database.embedded.dir,
    port: config.database.embedded.port,
    logger: logger.child({ component: 'embedded-postgres' }),
  });
  return { url: server.url, kind: 'embedded', stop: () => server.stop() };
}
