import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MIGRATIONS } from '@ussd/platform-database';
import { createTestDatabase, type TestDatabase } from '@ussd/platform-testing';

/** Runs the built CLI (the test target depends on the build) as an operator would. */
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'test', LOG_LEVEL: 'warn', ...env },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('ussd CLI (migrate, revert, status)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());

  it('shows pending migrations, applies them, reverts one, and --check fails while any is pending', () => {
    const env = { DATABASE_URL: database.url };
    const before = run(['status', '--check'], env);
    expect(before.code).toBe(1);
    expect(before.stdout).toContain(`0 applied, ${MIGRATIONS.length} pending`);

    const migrate = run(['migrate'], env);
    expect(migrate).toMatchObject({ code: 0 });
    expect(migrate.stdout).toContain(`Applied ${MIGRATIONS.length} migration(s)`);
    expect(run(['migrate'], env).stdout).toContain('Schema is up to date.');
    expect(run(['status', '--check'], env)).toMatchObject({ code: 0 });

    const revert = run(['revert'], env);
    expect(revert.code).toBe(0);
    expect(revert.stdout).toContain(`Reverted ${MIGRATIONS.at(-1)!.name}.`);
    expect(run(['status'], env).stdout).toContain(`${MIGRATIONS.length - 1} applied, 1 pending`);
  });

  it.each([
    [[], 2, 'No command given.'],
    [['drop-everything'], 2, 'Unknown command: "drop-everything"'],
    [['migrate', 'now'], 2, 'Unknown command'],
    [['status', '--force'], 2, "Unknown option '--force'"],
    [['status', `--${'x'.repeat(10_000)}`], 2, 'Unknown option'],
  ])('refuses %j with usage and exit %i', (args, code, message) => {
    const result = run(args as string[]);
    expect(result.code).toBe(code);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('Usage: npm run cli -- <command>');
    expect(result.stderr.length).toBeLessThan(2000);
  });

  it('stops on bad configuration with one line per variable and exit 78', () => {
    const result = run(['status'], { DATABASE_URL: 'mysql://root@db/x', DATABASE_POOL_MAX: 'lots' });
    expect(result.code).toBe(78);
    expect(result.stderr.trim().split('\n')).toEqual([
      'Invalid configuration: DATABASE_URL: expected a postgres:// or postgresql:// URL',
      'Invalid configuration: DATABASE_POOL_MAX: expected an integer from 1 to 1000, got "lots"',
    ]);
  });

  it('fails clearly, without a stack trace, when the database is unreachable', () => {
    const result = run(['status'], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', DATABASE_CONNECT_TIMEOUT_MS: '500' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^status failed: .*ECONNREFUSED/m);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
