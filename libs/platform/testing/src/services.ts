import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import pg from 'pg';
import { createLogger, type Logger } from '@ussd/platform-logging';

/**
 * Integration tests talk to real servers. `npm test` (tools/scripts/test.mjs) makes sure
 * both exist: the local ones, or an embedded PostgreSQL and a throwaway redis-server.
 */
export function testPostgresUrl(): string {
  return process.env['TEST_DATABASE_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export function testRedisUrl(): string {
  return process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
}

export function silentLogger(): Logger {
  return createLogger({ name: 'test', level: 'silent', format: 'json' });
}

export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

/**
 * A fresh, empty database on the test server, so test files and parallel workers never
 * see each other's rows. Migrate it with `migrateDatabase(url)` from platform-database.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const serverUrl = testPostgresUrl();
  const name = `ussd_t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${serverUrl} (${(error as Error).message}). Run the tests with \`npm test\`, which starts an embedded PostgreSQL when none is running, or set TEST_DATABASE_URL.`,
      { cause: error },
    );
  }
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const database: TestDatabase = {
    url: url.toString(),
    name,
    drop: async () => {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
  return database;
}

/** Fails with instructions when no Redis answers, instead of letting tests hang. */
export async function requireRedis(url = testRedisUrl()): Promise<string> {
  const { hostname, port } = new URL(url);
  const reachable = await new Promise<boolean>((resolve) => {
    const socket = new Socket();
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.connect(Number(port || 6379), hostname);
  });
  if (!reachable) {
    throw new Error(
      `Redis is not reachable at ${url}. Start one (redis-server --port 6379), set TEST_REDIS_URL, or run \`npm test\`, which starts a throwaway redis-server from PATH when none is running.`,
    );
  }
  return url;
}
