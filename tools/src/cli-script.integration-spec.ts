import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MIGRATIONS } from '@ussd/platform-database';
import { createTestDatabase, type TestDatabase } from '@ussd/platform-testing';

/** `npm run cli -- <command>`: builds the tools project (quietly), then runs the CLI, arguments and exit code passed through. */
const root = fileURLToPath(new URL('../..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function npmRunCli(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(npm, ['run', '--silent', 'cli', '--', ...args], {
    cwd: root,
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', NX_DAEMON: 'false', NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
    timeout: 180_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run cli', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());

  it('is an npm script that runs the operator CLI', () => {
    const scripts = (JSON.parse(spawnSync(npm, ['pkg', 'get', 'scripts'], { cwd: root, encoding: 'utf8' }).stdout) as Record<string, string>);
    expect(scripts['cli']).toBe('node tools/scripts/cli.mjs');
  });

  it('builds quietly, passes the arguments through and the exit code back (1: pending with --check, 0 after migrate)', () => {
    const env = { DATABASE_URL: database.url };
    const pending = npmRunCli(['status', '--check'], env);
    expect(pending.code).toBe(1);
    expect(pending.stdout).toBe(`${MIGRATIONS.map((m) => `pending  ${m.name}\n`).join('')}0 applied, ${MIGRATIONS.length} pending\n`); // no build chatter
    expect(npmRunCli(['migrate'], env)).toMatchObject({ code: 0, stdout: `Applied ${MIGRATIONS.length} migration(s):\n${MIGRATIONS.map((m) => `  ${m.name}\n`).join('')}` });
    expect(npmRunCli(['status', '--check'], env).code).toBe(0);
  }, 400_000);

  it('answers --help with a usage that names only commands that exist, and bad usage with exit 2', () => {
    const help = npmRunCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: npm run cli -- <command> \[options\]/);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z-]+(?: [a-z-]+)?)/gm)].map((m) => m[1]!);
    expect(commands).toEqual(['migrate', 'revert', 'status', 'dead-letters list', 'dead-letters redrive', 'dead-letters delete', 'keys create', 'keys list', 'keys revoke', 'teams create', 'teams list', 'grants add', 'grants remove', 'grants list', 'secrets list', 'secrets rotate-key']);
    expect(help.stdout).not.toMatch(/\bussd </);
    const bad = npmRunCli(['drop-everything', '--', '--all; rm -rf /']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Unknown command: "drop-everything');
  }, 400_000);
});
