// What `npm start` and `npm run cli` share: compile a project with one incremental `tsc -b` over its
// project references (the same compilation as the Nx build targets, in one process; an up-to-date
// tree costs under a second and rewrites nothing, so a process already running the output, a test
// say, never reads a half-written file), then run its entry point in this terminal with the exit
// code passed back and Ctrl-C / SIGTERM forwarded.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Builds `tsconfig` (relative to the root); on failure prints why and what to do, and exits. */
export function build(tsconfig, what) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(tsc)) {
    process.stderr.write('The dependencies are not installed (node_modules/typescript is missing): run `npm ci` first.\n');
    process.exit(1);
  }
  const result = spawnSync(process.execPath, [tsc, '-b', tsconfig], { cwd: root, encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    process.stderr.write(`${result.stdout ?? ''}${result.stderr ?? ''}\n`);
    process.stderr.write(
      result.error
        ? `Could not run the TypeScript compiler (${result.error.message}): run \`npm ci\` first.\n`
        : `The ${what} build failed (errors above): fix them, or run \`npm ci\` if node_modules is stale.\n`,
    );
    process.exit(result.status || 1);
  }
}

/** Runs a built entry point with these arguments, in the caller's working directory. */
export function run(entry, args = []) {
  const child = spawn(process.execPath, ['--enable-source-maps', join(root, entry), ...args], { stdio: 'inherit' });
  // The app handles repeated signals (a terminal's Ctrl-C reaches the whole process group too).
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
