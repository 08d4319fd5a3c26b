#!/usr/bin/env node
// The README's test command (`npm test`): lint, type-check, build and test every project
// against real PostgreSQL and Redis.
//
// - PostgreSQL: TEST_DATABASE_URL (default: the local server on 127.0.0.1:5432). If none
//   answers, an embedded PostgreSQL is started for the run (same binaries as `npm start`).
// - Redis: TEST_REDIS_URL (default redis://127.0.0.1:6379). If none answers, a throwaway
//   `redis-server` from PATH is started; without one the run stops and says how to get it.
// Extra arguments go to `nx run-many`, e.g. `npm test -- --projects=api`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const resultsDir = join(root, 'dist', 'test-results');
const extraArgs = process.argv.slice(2);
const cleanups = [];

function log(message) {
  process.stdout.write(`[test] ${message}\n`);
}

function reachable(host, port, timeoutMs = 1500) {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true)).once('error', () => done(false));
    socket.connect(port, host);
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function nx(args) {
  const result = spawnSync(process.execPath, [join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), ...args], { cwd: root, stdio: 'inherit', env: process.env });
  return result.status ?? 1;
}

async function ensurePostgres() {
  const url = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const { hostname, port } = new URL(url);
  if (await reachable(hostname, Number(port || 5432))) {
    process.env.TEST_DATABASE_URL = url;
    log(`PostgreSQL: ${url.replace(/:[^:@/]+@/, ':***@')}`);
    await dropStaleTestDatabases(url);
    return;
  }
  log(`No PostgreSQL at ${hostname}:${port || 5432}; starting an embedded one for this run.`);
  if (nx(['run', 'platform-database:build', '--outputStyle=static']) !== 0) throw new Error('could not build platform-database');
  const { EmbeddedPostgres } = await import('@ussd/platform-database');
  const { createLogger } = await import('@ussd/platform-logging');
  const dataDir = join(root, '.data', 'test-postgres');
  const server = await EmbeddedPostgres.start({ dataDir, port: 0, logger: createLogger({ name: 'test', level: 'warn', format: 'pretty' }) });
  cleanups.push(() => server.stop());
  process.env.TEST_DATABASE_URL = server.url;
  log(`PostgreSQL: embedded, ${server.url}`);
}

/** Test databases are named ussd_t_<base36 time>_<random>; drop those a crashed run left over an hour ago. */
async function dropStaleTestDatabases(url) {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const { rows } = await client.query(`SELECT datname FROM pg_database WHERE datname LIKE 'ussd_t_%'`);
    for (const { datname } of rows) {
      const created = parseInt(datname.split('_')[2] ?? '', 36);
      if (Number.isFinite(created) && Date.now() - created > 3_600_000) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    }
  } catch (error) {
    log(`(could not clean stale test databases: ${error.message})`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureRedis() {
  const url = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const { hostname, port } = new URL(url);
  if (await reachable(hostname, Number(port || 6379))) {
    process.env.TEST_REDIS_URL = url;
    log(`Redis: ${url}`);
    return;
  }
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  if (which.status !== 0) {
    throw new Error(
      `No Redis at ${hostname}:${port || 6379} and no redis-server on PATH. Install one (apt-get install redis-server, brew install redis) or point TEST_REDIS_URL at a running Redis.`,
    );
  }
  const redisPort = await freePort();
  const child = spawn(which.stdout.trim(), ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  cleanups.push(async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  });
  for (let i = 0; i < 50 && !(await reachable('127.0.0.1', redisPort, 200)); i++) await new Promise((r) => setTimeout(r, 100));
  process.env.TEST_REDIS_URL = `redis://127.0.0.1:${redisPort}`;
  log(`Redis: throwaway redis-server on port ${redisPort}`);
}

function summarise() {
  let passed = 0;
  let failed = 0;
  let suites = 0;
  let files = [];
  try {
    files = readdirSync(resultsDir).filter((f) => f.endsWith('.json'));
  } catch {
    // no results: every project failed before its tests ran
  }
  for (const file of files) {
    const result = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'));
    passed += result.numPassedTests;
    failed += result.numFailedTests + result.numRuntimeErrorTestSuites;
    suites += result.numTotalTestSuites;
  }
  return { passed, failed, suites, projects: files.length };
}

let code = 1;
try {
  await ensurePostgres();
  await ensureRedis();
  rmSync(resultsDir, { recursive: true, force: true });
  mkdirSync(resultsDir, { recursive: true });
  const started = Date.now();
  code = nx(['run-many', '-t', 'lint', 'typecheck', 'build', '--parallel=2', '--outputStyle=static', ...extraArgs]);
  if (code === 0) code = nx(['run-many', '-t', 'test', '--parallel=1', '--outputStyle=static', ...extraArgs]);
  const { passed, suites, projects, failed: failedTests } = summarise();
  let failed = failedTests;
  log(`${projects} projects, ${suites} test files, ${Math.round((Date.now() - started) / 1000)} s`);
  if (code !== 0 && failed === 0) failed += 1; // lint, type or build errors count as a failure
  process.stdout.write(`tests: ${passed} passed, ${failed} failed\n`);
} catch (error) {
  process.stderr.write(`[test] ${error.message}\n`);
  code = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
}
process.exit(code);
