#!/usr/bin/env node
// A new user's first run, checked: clones this repository (its committed HEAD) into a fresh
// folder of mode 700 under the home directory, as a checkout in a private home folder is, then
// runs the README's commands there exactly as written:
//
//   npm ci && npm start      the boot line must name the embedded defaults, /health/ready must
//                            answer 200, the printed development key must open /workflows (401
//                            without it), and Ctrl-C (SIGINT to the process group) must end it
//                            gracefully
//   npm run audit            with --test: production dependencies against the advisory database
//                            (high/critical fail unless tools/audit-allowlist.json admits them; an
//                            unreachable registry is one line, not a failure)
//   npm test                 with --test: the whole suite, in the same clone
//
// Prints the wall time of each step. Usage: node tools/scripts/first-run.mjs [--test] [--keep]
// FIRST_RUN_PARENT overrides the parent folder (default: the home directory).
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const source = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const args = new Set(process.argv.slice(2));
for (const arg of args) {
  if (!['--test', '--keep'].includes(arg)) {
    process.stderr.write(`first-run: unknown argument ${JSON.stringify(arg.slice(0, 40))}; usage: node tools/scripts/first-run.mjs [--test] [--keep]\n`);
    process.exit(2);
  }
}
const START_TIMEOUT_MS = 15 * 60_000;
const times = [];
/** npm test's closing line, repeated last so that it closes this script's output too. */
let testSummary;

function log(message) {
  process.stdout.write(`[first-run] ${message}\n`);
}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Runs a command in the clone, its output shown as it comes; throws unless it exits 0. */
async function step(name, command, commandArgs, cwd) {
  log(`${name}: ${[command, ...commandArgs].join(' ')}`);
  const started = Date.now();
  const child = spawn(command, commandArgs, { cwd, stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  child.stdout.on('data', (chunk) => {
    process.stdout.write(chunk);
    const summary = /^tests: \d+ passed, \d+ failed$/m.exec(chunk.toString('utf8'));
    if (summary) testSummary = summary[0];
  });
  const result = await new Promise((done) => child.once('exit', (status, signal) => done({ status, signal })));
  const ms = Date.now() - started;
  times.push([name, ms]);
  if (result.status !== 0) throw new Error(`${name} failed (exit ${result.status ?? result.signal}) after ${seconds(ms)}`);
  log(`${name}: done in ${seconds(ms)}`);
}

/** `npm start` as typed in a terminal: its own process group, no DATABASE_URL or REDIS_URL. */
async function startAndCtrlC(cwd) {
  const env = { ...process.env, PORT: '0', HOST: '127.0.0.1' };
  for (const name of ['DATABASE_URL', 'REDIS_URL', 'EMBEDDED_PG_DIR', 'NODE_ENV', 'LOG_FORMAT']) delete env[name];
  log('start: npm start');
  const started = Date.now();
  const child = spawn('npm', ['start'], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise((done) => child.once('exit', (code, signal) => done(code ?? signal)));
  const url = await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`no boot line within ${seconds(START_TIMEOUT_MS)}:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk) => {
      process.stdout.write(chunk);
      output += chunk.toString('utf8');
      const match = /api listening on (http:\/\/\S+) \| database: embedded PostgreSQL \| redis: in-memory/.exec(output);
      if (match) {
        clearTimeout(timer);
        done(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`npm start exited (${code}) before its boot line`));
    });
  });
  const startMs = Date.now() - started;
  times.push(['first start (npm start to boot line)', startMs]);
  log(`start: boot line after ${seconds(startMs)}; ${url}`);

  const ready = await fetch(`${url}/health/ready`);
  const body = await ready.text();
  log(`GET /health/ready -> ${ready.status} ${body}`);
  if (ready.status !== 200) throw new Error(`/health/ready answered ${ready.status}, expected 200`);

  // The first start printed a development admin key; the api refuses a call without one.
  const key = /^ {2}(usk_[A-Za-z0-9_-]{43})$/m.exec(output)?.[1];
  if (key === undefined) throw new Error('the first start printed no development key');
  const anonymous = await fetch(`${url}/workflows`);
  const authorised = await fetch(`${url}/workflows`, { headers: { authorization: `Bearer ${key}` } });
  log(`GET /workflows -> ${anonymous.status} without a key, ${authorised.status} with the printed development key`);
  if (anonymous.status !== 401 || authorised.status !== 200) throw new Error('expected 401 without a key and 200 with the printed one');

  process.kill(-child.pid, 'SIGINT');
  const timer = setTimeout(() => process.kill(-child.pid, 'SIGKILL'), 30_000);
  const code = await exited;
  clearTimeout(timer);
  if (!output.includes('shutdown complete')) throw new Error(`Ctrl-C did not end npm start gracefully (exit ${code}); output:\n${output.slice(-2000)}`);
  log(`Ctrl-C: shut down gracefully (npm exit ${code})`);
}

/** The embedded data may live outside the clone, behind a link (see embedded-postgres.ts). */
function removeLinkedData(clone) {
  const link = join(clone, '.data', 'api', 'postgres');
  try {
    if (!lstatSync(link).isSymbolicLink()) return;
    const target = resolve(dirname(link), readlinkSync(link));
    rmSync(target, { recursive: true, force: true });
    rmSync(`${target}.link`, { force: true });
  } catch {
    // no data directory: npm start never got that far
  }
}

const parent = process.env.FIRST_RUN_PARENT ?? homedir();
const folder = mkdtempSync(join(parent, '.ussd-first-run-'));
chmodSync(folder, 0o700);
const clone = join(folder, 'ussd-flow');
let code = 0;
try {
  const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: source, encoding: 'utf8' }).stdout.trim();
  log(`cloning ${head} into ${clone} (parent folder mode 700, as ${process.getuid?.() === 0 ? 'root' : 'an ordinary user'})`);
  await step('clone', 'git', ['clone', '-q', source, clone], parent);
  await step('install', 'npm', ['ci', '--no-audit', '--no-fund'], clone);
  await startAndCtrlC(clone);
  if (args.has('--test')) await step('audit', 'npm', ['run', '--silent', 'audit'], clone);
  if (args.has('--test')) await step('test', 'npm', ['test'], clone);
} catch (error) {
  process.stderr.write(`[first-run] FAILED: ${error.message}\n`);
  code = 1;
} finally {
  const total = times.reduce((sum, [, ms]) => sum + ms, 0);
  log(`wall times: ${times.map(([name, ms]) => `${name} ${seconds(ms)}`).join(', ')}; total ${seconds(total)}`);
  if (args.has('--keep')) log(`kept ${clone}`);
  else {
    removeLinkedData(clone);
    rmSync(folder, { recursive: true, force: true });
  }
}
if (testSummary) process.stdout.write(`${testSummary}\n`);
process.exit(code);
