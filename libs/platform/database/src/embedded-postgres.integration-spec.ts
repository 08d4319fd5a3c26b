import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { silentLogger } from '@ussd/platform-testing';
import { EmbeddedPostgres } from './embedded-postgres.js';

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('EmbeddedPostgres', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ussd-embedded-'));
    await chmod(root, 0o755); // the postgres user must be able to enter it when we run as root
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('initialises a data directory, serves real PostgreSQL, refuses a second server on it, and restarts with the data kept', async () => {
    const dataDir = join(root, 'pg');
    const logger = silentLogger();
    const first = await EmbeddedPostgres.start({ dataDir, port: 0, logger });
    try {
      await query(first.url, `CREATE TABLE t (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tags text[], doc jsonb)`);
      await query(first.url, `INSERT INTO t (tags, doc) VALUES ('{a,b}', '{"k": 1}')`);
      await expect(EmbeddedPostgres.start({ dataDir, port: 0, logger })).rejects.toThrow(/in use by process \d+/);
    } finally {
      await first.stop();
    }
    const second = await EmbeddedPostgres.start({ dataDir, port: 0, logger });
    try {
      expect(await query(second.url, `SELECT doc->>'k' AS k FROM t WHERE tags @> '{a}'`)).toEqual([{ k: '1' }]);
    } finally {
      await second.stop();
    }
  });
});
