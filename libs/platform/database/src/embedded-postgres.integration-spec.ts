import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createLogger } from '@ussd/platform-logging';
import { silentLogger } from '@ussd/platform-testing';
import { EmbeddedPostgres, EmbeddedPostgresError } from './embedded-postgres.js';

const asRoot = userInfo().uid === 0;
const workspaceRoot = fileURLToPath(new URL('../../../../', import.meta.url));

async function query(url: string, sql: string): Promise<unknown[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}

/** A logger whose lines the test can read back. */
function capturingLogger(): { logger: ReturnType<typeof silentLogger>; messages: string[] } {
  const messages: string[] = [];
  const destination = { write: (line: string) => messages.push(String((JSON.parse(line) as { msg: unknown }).msg)) } as unknown as NodeJS.WritableStream;
  return { logger: createLogger({ name: 'test', level: 'info', format: 'json', destination }), messages };
}

describe('EmbeddedPostgres', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'ussd-embedded-'));
    await chmod(root, 0o755);
  });
  afterAll(async () => rm(root, { recursive: true, force: true }));

  it('initialises a data directory, serves real PostgreSQL, refuses a second server on it, and restarts with the data kept', async () => {
    const dataDir = join(root, 'pg');
    const logger = silentLogger();
    const first = await EmbeddedPostgres.start({ dataDir, port: 0, logger, runtimeDir: join(root, 'runtime') });
    try {
      await query(first.url, `CREATE TABLE t (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tags text[], doc jsonb)`);
      await query(first.url, `INSERT INTO t (tags, doc) VALUES ('{a,b}', '{"k": 1}')`);
      const second = EmbeddedPostgres.start({ dataDir, port: 0, logger, runtimeDir: join(root, 'runtime') });
      await expect(second).rejects.toThrow(EmbeddedPostgresError);
      await expect(second).rejects.toThrow(
        `The embedded PostgreSQL data directory ${dataDir} is in use by another instance (process ${process.pid}): stop it, or give this one its own EMBEDDED_PG_DIR, or set DATABASE_URL.`,
      );
    } finally {
      await first.stop();
    }
    const second = await EmbeddedPostgres.start({ dataDir, port: 0, logger, runtimeDir: join(root, 'runtime') });
    try {
      expect(await query(second.url, `SELECT doc->>'k' AS k FROM t WHERE tags @> '{a}'`)).toEqual([{ k: '1' }]);
    } finally {
      await second.stop();
    }
  });

  it('works from a folder of mode 700 (a home folder), placing what the server user cannot reach where it can', async () => {
    const home = join(root, 'home');
    await mkdir(home, { mode: 0o700 });
    await chmod(home, 0o700);
    const runtimeDir = join(root, 'runtime-700');
    const dataDir = join(home, 'checkout', '.data', 'api', 'postgres');
    const { logger, messages } = capturingLogger();

    const first = await EmbeddedPostgres.start({ dataDir, port: 0, logger, runtimeDir });
    try {
      await query(first.url, `CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)`);
      if (asRoot) {
        // The data lives in the runtime folder behind a link at the configured path, and the
        // server runs a world-readable copy of the binaries.
        expect((await lstat(dataDir)).isSymbolicLink()).toBe(true);
        expect(await readlink(dataDir)).toBe(first.dataDir);
        expect(first.dataDir.startsWith(join(runtimeDir, 'data'))).toBe(true);
        expect(messages.some((m) => m.startsWith(`embedded PostgreSQL data placed in ${first.dataDir} (linked from ${dataDir})`))).toBe(true);
      } else {
        expect(first.dataDir).toBe(dataDir);
      }
    } finally {
      await first.stop();
    }

    const again = await EmbeddedPostgres.start({ dataDir, port: 0, logger, runtimeDir });
    try {
      expect(again.dataDir).toBe(first.dataDir);
      expect(await query(again.url, 'SELECT n FROM kept')).toEqual([{ n: 42 }]);
    } finally {
      await again.stop();
    }

    // Another checkout, deleted outright: its placed data belongs to nobody.
    const otherDataDir = join(home, 'other-checkout', '.data', 'api', 'postgres');
    const other = await EmbeddedPostgres.start({ dataDir: otherDataDir, port: 0, logger, runtimeDir });
    await other.stop();
    await rm(join(home, 'other-checkout'), { recursive: true, force: true });

    // Removing the data directory (the link, as root) means starting afresh.
    await rm(join(home, 'checkout', '.data'), { recursive: true, force: true });
    const fresh = await EmbeddedPostgres.start({ dataDir, port: 0, logger, runtimeDir });
    try {
      expect(await query(fresh.url, `SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'kept'`)).toEqual([{ n: 0 }]);
      if (asRoot) {
        expect(other.dataDir).not.toBe(fresh.dataDir);
        expect(existsSync(other.dataDir)).toBe(false);
        expect(messages).toContain('discarded embedded PostgreSQL data whose link is gone');
      }
    } finally {
      await fresh.stop();
    }
  });

  it('says clearly when the data directory cannot be created', async () => {
    const blocker = join(root, 'a-file');
    await writeFile(blocker, 'not a folder');
    await expect(EmbeddedPostgres.start({ dataDir: join(blocker, 'pg'), port: 0, logger: silentLogger(), runtimeDir: join(root, 'runtime') })).rejects.toThrow(
      `Cannot create the embedded PostgreSQL data directory ${join(blocker, 'pg')} (EEXIST on ${blocker}): set EMBEDDED_PG_DIR to a writable folder, or set DATABASE_URL.`,
    );
  });

  it('stops a server left running by an instance that was killed with -9, and starts', async () => {
    const dataDir = join(root, 'orphaned');
    // Another process starts a server on the data directory and is then killed outright.
    const script = `
      import { EmbeddedPostgres } from '@ussd/platform-database';
      import { createLogger } from '@ussd/platform-logging';
      const server = await EmbeddedPostgres.start({ dataDir: ${JSON.stringify(dataDir)}, port: 0, runtimeDir: ${JSON.stringify(join(root, 'runtime'))}, logger: createLogger({ name: 't', level: 'silent', format: 'json' }) });
      process.stdout.write(server.url + '\\n');
      setInterval(() => undefined, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: workspaceRoot, stdio: ['ignore', 'pipe', 'inherit'] });
    const orphanUrl = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString('utf8').trim()));
      child.once('exit', (code) => reject(new Error(`the first instance exited (${code}) before its server was ready`)));
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    expect(await query(orphanUrl, 'SELECT 1 AS one')).toEqual([{ one: 1 }]); // the orphan still serves

    const { logger, messages } = capturingLogger();
    const server = await EmbeddedPostgres.start({ dataDir, port: 0, logger, runtimeDir: join(root, 'runtime') });
    try {
      expect(messages).toContain('stopping an embedded PostgreSQL left running by an instance that was killed');
      expect(await query(server.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
      await expect(query(orphanUrl, 'SELECT 1')).rejects.toThrow();
    } finally {
      await server.stop();
    }
    expect(existsSync(join(server.dataDir, 'postmaster.pid'))).toBe(false);
  });
});
