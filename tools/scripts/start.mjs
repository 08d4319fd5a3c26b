#!/usr/bin/env node
// `npm start [app]`: builds the app (quietly; what is up to date is skipped) and runs it in
// this terminal. With no configuration it uses an embedded PostgreSQL and in-memory
// providers; the boot line prints the URL and the backends in use.
import { join } from 'node:path';
import { build, root, run } from './build-and-run.mjs';

const app = process.argv[2] ?? 'api';
if (!['api', 'log-ingester'].includes(app)) {
  process.stderr.write(`Unknown app ${JSON.stringify(app.slice(0, 40))}: expected api or log-ingester\n`);
  process.exit(2);
}

const started = Date.now();
process.stdout.write(`Building ${app}…\n`);
build(join('apps', app, 'tsconfig.build.json'), app);
const ms = Date.now() - started;
if (ms > 2000) process.stdout.write(`Built in ${(ms / 1000).toFixed(0)} s.\n`);
// The app runs from the repository root, where EMBEDDED_PG_DIR's default (.data/<app>) lives.
process.chdir(root);
run(join('apps', app, 'dist', 'main.js'));
