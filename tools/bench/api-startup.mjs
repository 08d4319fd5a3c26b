#!/usr/bin/env node
// Benchmark (not a test): how long the built api takes from `node main.js` to a 200 from
// /health/ready, and its resident memory once idle. Targets (docs/targets.md): ready
// < 3 s, idle RSS < 150 MB with REDIS_URL set. Run `npx nx run api:build` first.
//   node tools/bench/api-startup.mjs [runs]      (DATABASE_URL set: external; unset: embedded)
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../../apps/api/dist/main.js', import.meta.url));
const runs = Number(process.argv[2] ?? 5);
const port = 3990;
const work = mkdtempSync(join(tmpdir(), 'ussd-bench-'));
chmodSync(work, 0o755);

async function ready(deadline) {
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health/ready`)).status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return false;
}

const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const results = [];
for (let i = 0; i < runs; i++) {
  const started = performance.now();
  const child = spawn(process.execPath, [entry], {
    cwd: work,
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', PORT: String(port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  if (!(await ready(Date.now() + 30_000))) throw new Error('api did not become ready in 30 s');
  const readyMs = performance.now() - started;
  await new Promise((r) => setTimeout(r, 2000)); // idle
  const rss = rssMb(child.pid);
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const code = await exited;
  results.push({ run: i + 1, readyMs: Math.round(readyMs), idleRssMb: Math.round(rss), exit: code });
}
rmSync(work, { recursive: true, force: true });

const mode = process.env.DATABASE_URL ? 'external PostgreSQL' : 'embedded PostgreSQL (run 1 includes initdb)';
console.log(`api start-up, ${mode}`);
console.table(results);
const warm = results.slice(1).map((r) => r.readyMs).sort((a, b) => a - b);
if (warm.length) console.log(`ready median (runs 2..n): ${warm[Math.floor(warm.length / 2)]} ms; max idle RSS: ${Math.max(...results.map((r) => r.idleRssMb))} MB`);
