#!/usr/bin/env node
// `npm start [app]`: builds the app (quietly; what is up to date is skipped) and runs it in
// this terminal. With no configuration it uses an embedded PostgreSQL and in-memory
// providers; the boot line prints the URL and the backends in use.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const app = process.argv[2] ?? 'api';
if (!['api', 'log-ingester'].includes(app)) {
  process.stderr.write(`Unknown app ${JSON.stringify(app.slice(0, 40))}: expected api or log-ingester\n`);
  process.exit(2);
}

// One `tsc -b` over the app's project references: the same compilation as the Nx build
// targets, in one process (a cold build of the api takes a third of the time Nx's
// one-process-per-project run does) and incremental, so an up-to-date tree costs under a second.
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  process.stderr.write('The dependencies are not installed (node_modules/typescript is missing): run `npm ci` first.\n');
  process.exit(1);
}
const started = Date.now();
process.stdout.write(`Building ${app}…\n`);
const build = spawnSync(process.execPath, [tsc, '-b', join('apps', app, 'tsconfig.build.json')], {
  cwd: root,
  encoding: 'utf8',
});
if (build.error || build.status !== 0) {
  process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}\n`);
  process.stderr.write(
    build.error
      ? `Could not run the TypeScript compiler (${build.error.message}): run \`npm ci\` first.\n`
      : `The ${app} build failed (errors above): fix them, or run \`npm ci\` if node_modules is stale.\n`,
  );
  process.exit(build.status || 1);
}
const ms = Date.now() - started;
if (ms > 2000) process.stdout.write(`Built in ${(ms / 1000).toFixed(0)} s.\n`);

const child = spawn(process.execPath, ['--enable-source-maps', join(root, 'apps', app, 'dist', 'main.js')], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
