#!/usr/bin/env node
// `npm start [app]`: builds the app (quietly; Nx skips what is up to date) and runs it in
// this terminal. With no configuration it uses an embedded PostgreSQL and in-memory
// providers; the boot line prints the URL and the backends in use.
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const app = process.argv[2] ?? 'api';
if (!['api', 'log-ingester'].includes(app)) {
  process.stderr.write(`Unknown app ${JSON.stringify(app.slice(0, 40))}: expected api or log-ingester\n`);
  process.exit(2);
}

process.stdout.write(`Building ${app}…\n`);
const build = spawnSync(process.execPath, [join(root, 'node_modules', 'nx', 'dist', 'bin', 'nx.js'), 'run', `${app}:build`, '--outputStyle=static'], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, NX_TUI: 'false' },
});
if (build.status !== 0) {
  process.stderr.write(`${build.stdout}${build.stderr}\nBuild failed.\n`);
  process.exit(build.status ?? 1);
}

const child = spawn(process.execPath, ['--enable-source-maps', join(root, 'apps', app, 'dist', 'main.js')], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
