import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '@ussd/platform-config';
import { createDataSource, migrateDatabase } from '@ussd/platform-database';
import { TeamSecrets } from '@ussd/platform-secrets';
import { createTestDatabase, silentLogger, type TestDatabase } from '@ussd/platform-testing';
import type { DataSource } from 'typeorm';

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

const VALUE = (i: number) => `tok_cli_${i}_c0ffee`;

describe('ussd CLI: secrets list and rotate-key', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  const old = { version: 1, key: randomBytes(32) };
  const next = { version: 2, key: randomBytes(32) };
  const entry = (k: { version: number; key: Buffer }) => `${k.version}:${k.key.toString('base64')}`;
  const outputs: string[] = [];
  const cliRun = (args: string[], env: Record<string, string> = {}) => {
    const result = run(args, { DATABASE_URL: database.url, ...env });
    outputs.push(result.stdout, result.stderr);
    return result;
  };

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    dataSource = await createDataSource(database.url, parseConfig({}, { appName: 'test', port: 0 }).database, 'test').initialize();
    await dataSource.query(`INSERT INTO teams (name) VALUES ('loans'), ('airtime')`);
    const store = new TeamSecrets(dataSource, [old]);
    for (let i = 0; i < 5; i++) await store.set(i < 3 ? 'loans' : 'airtime', `TOKEN_${i}`, VALUE(i), { actor: 'loans/alice', actorKind: 'api-key' });
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
    // Nothing the CLI printed holds a value or a key.
    const printed = outputs.join('\n');
    for (let i = 0; i < 5; i++) expect(printed).not.toContain(VALUE(i));
    for (const k of [old, next]) expect(printed).not.toContain(k.key.toString('base64'));
  });

  it('lists names, key versions and actors, never values; --team narrows it', () => {
    const all = cliRun(['secrets', 'list']);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^airtime {2}TOKEN_3 {2}key-version=1 {2}updated=\S+ by loans\/alice/m);
    expect(all.stdout).toContain('5 secret(s)');
    const loans = cliRun(['secrets', 'list', '--team', 'loans']);
    expect(loans.stdout.trim().split('\n').map((line) => line.split('  ')[1])).toEqual(['TOKEN_0', 'TOKEN_1', 'TOKEN_2', undefined]);
  });

  it('re-encrypts every secret with the new key in batches, is idempotent, and then the old key can go', async () => {
    const env = { SECRETS_KEYS: `${entry(next)},${entry(old)}` };
    const first = cliRun(['secrets', 'rotate-key', '--batch', '2'], env);
    expect([first.code, first.stderr]).toEqual([0, '']);
    expect(first.stdout.trim().split('\n')).toEqual([
      'Current key version 2; 5 secret(s), 5 on older keys (version 1: 5).',
      '  re-encrypted 2, 3 left',
      '  re-encrypted 4, 1 left',
      '  re-encrypted 5, 0 left',
      'Re-encrypted 5 secret(s) with key version 2.',
      'Every secret uses key version 2: the other keys can be removed from SECRETS_KEYS.',
    ]);
    const again = cliRun(['secrets', 'rotate-key'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Re-encrypted 0 secret(s) with key version 2.');
    // One audit row per re-encrypted secret, as the operator, with the new key version (never a value).
    const audited = (await dataSource.query(`SELECT actor_kind, team, action, target_id, request_id, details FROM audit_log WHERE action = 'secret.rotate' ORDER BY target_id`)) as Record<string, unknown>[];
    expect(audited.map((row) => `${row['team']}/${row['target_id']}`)).toEqual(['loans/TOKEN_0', 'loans/TOKEN_1', 'loans/TOKEN_2', 'airtime/TOKEN_3', 'airtime/TOKEN_4']);
    for (const row of audited) expect(row).toMatchObject({ actor_kind: 'cli', action: 'secret.rotate', request_id: null, details: { keyVersion: 2 } });

    const onlyNew = new TeamSecrets(dataSource, [next]);
    expect(await onlyNew.resolve('airtime', ['TOKEN_3', 'TOKEN_4'])).toEqual(new Map([['TOKEN_3', VALUE(3)], ['TOKEN_4', VALUE(4)]]));
    expect(cliRun(['secrets', 'list']).stdout).not.toContain('key-version=1');
  });

  it('fails (exit 1) without a key, or when a secret is on a key SECRETS_KEYS no longer holds', () => {
    const keyless = cliRun(['secrets', 'rotate-key']);
    expect([keyless.code, keyless.stderr.trim()]).toEqual([1, 'secrets rotate-key failed: no secrets key is configured: set SECRETS_KEYS (the new key first, then the old ones), as the api has it.']);
    const third = { version: 3, key: randomBytes(32) };
    const missing = cliRun(['secrets', 'rotate-key'], { SECRETS_KEYS: entry(third) });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^secrets rotate-key failed: secret TOKEN_\d of team \w+ is sealed with key version 2, which SECRETS_KEYS does not hold \(configured: 3\); nothing of that batch was written\n$/);
  });

  it.each([
    [['secrets'], 'secrets: say list or rotate-key.'],
    [['secrets', 'drop'], 'Unknown secrets action: "drop"'],
    [['secrets', 'list', 'extra'], 'secrets list takes no arguments'],
    [['secrets', 'list', '--batch', '5'], 'secrets list takes only --team.'],
    [['secrets', 'rotate-key', '--team', 'loans'], 'secrets rotate-key takes only --batch'],
    [['secrets', 'rotate-key', '--batch', '0'], '--batch: expected an integer from 1 to 10000, got "0"'],
    [['secrets', 'rotate-key', '--batch', 'lots'], '--batch: expected an integer from 1 to 10000, got "lots"'],
    [['secrets', 'list', '--role', 'admin'], 'secrets list takes only --team.'],
    [['status', '--batch', '5'], 'status: --batch belongs to secrets rotate-key.'],
  ])('refuses %j with usage and exit 2', (args, message) => {
    const result = cliRun(args as string[]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('Usage: npm run cli -- <command>');
  });
});
