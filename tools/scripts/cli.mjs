#!/usr/bin/env node
// `npm run cli -- <command> [options]`: the operator CLI (tools/src/cli.ts) from a fresh clone.
// Builds the tools project first, quietly (Nx skips what is up to date; its output is shown
// only when the build fails), then runs tools/dist/cli.js with the arguments as given and
// exits with its exit code, so scripts and CI can rely on it (0 done, 1 failed, 2 bad usage,
// 78 bad configuration). stdout is the CLI's alone, so its output can be piped.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const build = spawnSync(process.execPath, [join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'run', 'tools:build', '--outputStyle=static'], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, NX_TUI: 'false' },
});
if (build.status !== 0) {
  process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}${build.error ? `${build.error.message}\n` : ''}\nBuilding the CLI failed.\n`);
  process.exit(build.status ?? 1);
}

// The working directory is kept: npm runs scripts from the repository root, as it runs `npm start`,
// so EMBEDDED_PG_DIR (relative to it) names the same embedded database the api uses.
const child = spawn(process.execPath, ['--enable-source-maps', join(root, 'tools', 'dist', 'cli.js'), ...process.argv.slice(2)], { stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
