#!/usr/bin/env node
// `npm run cli -- <command> [options]`: the operator CLI (tools/src/cli.ts) from a fresh clone.
// Builds it first, quietly (its output is shown only when the build fails), then runs
// tools/dist/cli.js with the arguments as given and exits with its exit code, so scripts and CI
// can rely on it (0 done, 1 failed, 2 bad usage, 78 bad configuration). stdout is the CLI's
// alone, so its output can be piped.
import { build, run } from './build-and-run.mjs';

build('tools/tsconfig.build.json', 'CLI');
// The working directory is kept: npm runs scripts from the repository root, as it runs `npm start`,
// so EMBEDDED_PG_DIR (relative to it) names the same embedded database the api uses.
run('tools/dist/cli.js', process.argv.slice(2));
