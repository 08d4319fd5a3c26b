import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MIGRATIONS } from '@ussd/platform-database';
import { createTestDatabase, spawnApp, type TestDatabase } from '@ussd/platform-testing';
import { join } from 'node:path';
import pg from 'pg';

/** Runs the built CLI (the test target depends on the build) as an operator would. */
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [cli, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env['PATH'] ?? '', NODE_ENV: 'test', LOG_LEVEL: 'warn', USER: 'auditor', ...env },
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
    // The usage text (about 1,950 characters) and one line: a hostile 10,000-character option is not echoed whole.
    expect(result.stderr.length).toBeLessThan(2600);
    expect(result.stderr).not.toContain('x'.repeat(300));
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

  describe('keys and teams', () => {
    let keysDb: TestDatabase;
    beforeAll(async () => {
      keysDb = await createTestDatabase();
    });
    afterAll(async () => keysDb?.drop());

    it('needs the schema first, then creates a team and a key whose secret is the last line, lists it without its secret, and revokes it', async () => {
      const env = { DATABASE_URL: keysDb.url };
      const early = run(['keys', 'list'], env);
      expect([early.code, early.stderr.trim()]).toEqual([1, `keys failed: the schema is not up to date (${MIGRATIONS.length} pending migration(s)): run \`npm run cli -- migrate\` first.`]);
      expect(run(['migrate'], env).code).toBe(0);

      expect(run(['teams', 'create', 'loans'], env)).toMatchObject({ code: 0, stdout: 'Created team loans.\n' });
      expect(run(['teams', 'create', 'loans'], env)).toMatchObject({ code: 0, stdout: 'Team loans already exists.\n' });
      expect(run(['teams', 'list'], env).stdout).toBe('default\nloans\n');

      const created = run(['keys', 'create', '--name', 'ci-deployer', '--team', 'loans', '--role', 'publisher', '--expires', '30d'], env);
      expect(created.code).toBe(0);
      const lines = created.stdout.trim().split('\n');
      const key = lines.at(-1)!;
      expect(key).toMatch(/^usk_[A-Za-z0-9_-]{43}$/);
      expect(lines[0]).toMatch(/^Created key [0-9a-f-]{36} \(usk_.{8}…\): name ci-deployer, team loans, role publisher, expires \d{4}-/);

      const listed = run(['keys', 'list', '--team', 'loans'], env);
      expect(listed.code).toBe(0);
      expect(listed.stdout).toContain(`${key.slice(0, 12)}…  team=loans  role=publisher  name="ci-deployer"  live`);
      expect(listed.stdout).not.toContain(key.slice(12));
      expect(listed.stdout.trim().split('\n').at(-1)).toBe('1 key(s)');

      const revoked = run(['keys', 'revoke', key.slice(0, 12)], env);
      expect(revoked).toMatchObject({ code: 0 });
      expect(revoked.stdout).toMatch(/^Revoked [0-9a-f-]{36} \(usk_.{8}…, ci-deployer, team loans\)\.\n$/);
      expect(run(['keys', 'list'], env).stdout).toMatch(/name="ci-deployer" {2}revoked /);
      expect(run(['keys', 'revoke', key.slice(0, 12)], env)).toMatchObject({ code: 1, stderr: expect.stringContaining('No live key with id or prefix') });
    });

    it.each([
      [['keys'], 'keys: say create, list, revoke.'],
      [['keys', 'create', '--role', 'admin'], 'keys create needs --name NAME'],
      [['keys', 'create', '--name', 'x'], 'keys create needs --role, one of viewer, editor, publisher, admin.'],
      [['keys', 'create', '--name', 'x', '--role', 'root'], 'keys create needs --role, one of viewer, editor, publisher, admin (not "root").'],
      [['keys', 'create', '--name', 'x', '--role', 'viewer', '--expires', 'yesterday'], '--expires: a date'],
      [['keys', 'create', '--name', 'x', '--role', 'viewer', '--expires', '2001-01-01'], '--expires: a date'],
      [['keys', 'list', '--role', 'admin'], 'keys list does not take --role.'],
      [['keys', 'revoke'], 'keys revoke takes one argument.'],
      [['teams', 'create'], 'teams create takes one argument.'],
      [['status', '--name', 'x'], 'status: --name, --role, --team and --expires belong to keys, --code to grants.'],
      [['grants'], 'grants: say add, list, remove.'],
      [['grants', 'add', '--code', '*384*'], 'grants add needs --team TEAM.'],
      [['grants', 'add', '--team', 'loans'], 'grants add needs --code'],
      [['grants', 'add', '--team', 'loans', '--code', '*384'], 'grants add needs --code, an exact service code'],
      [['grants', 'remove', '--team', 'loans', '--code', "*1#'; DROP TABLE teams; --"], 'grants remove needs --code'],
      [['grants', 'list', '--code', '*1#'], 'grants list does not take --code.'],
      [['grants', 'add', 'x', '--team', 'loans', '--code', '*1#'], 'grants add takes no arguments'],
    ])('refuses %j with usage and exit 2, before opening any database', (args, message) => {
      const result = run(args as string[], { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' });
      expect([result.code, result.stderr.split('\n')[0]]).toEqual([2, expect.stringContaining(message)]);
    });

    it('refuses an unknown team or a bad team name with one line and exit 1, creating nothing', () => {
      const env = { DATABASE_URL: keysDb.url };
      expect(run(['keys', 'create', '--name', 'x', '--role', 'viewer', '--team', 'nope'], env)).toMatchObject({
        code: 1,
        stderr: 'keys create failed: No team "nope": create it first (teams create NAME).\n',
      });
      expect(run(['teams', 'create', "x'; DROP TABLE teams; --"], env)).toMatchObject({ code: 1, stderr: expect.stringMatching(/^teams create failed: Team names are/) });
      expect(run(['teams', 'list'], env).stdout).toBe('default\nloans\n');
    });

    it('adds, lists and removes service-code grants, refusing an unknown team', () => {
      const env = { DATABASE_URL: keysDb.url };
      expect(run(['grants', 'add', '--team', 'loans', '--code', '*384*'], env)).toMatchObject({ code: 0, stdout: 'Granted *384* to team loans.\n' });
      expect(run(['grants', 'add', '--team', 'loans', '--code', '*384*'], env)).toMatchObject({ code: 0, stdout: 'Team loans already holds *384*.\n' });
      expect(run(['grants', 'add', '--team', 'default', '--code', '*500*1#'], env)).toMatchObject({ code: 0 });
      const listed = run(['grants', 'list', '--team', 'loans'], env);
      expect(listed.stdout).toMatch(/^loans {2}\*384\* {2}created-by=cli:\S+ {2}created=\S+\n1 grant\(s\)\n$/);
      expect(run(['grants', 'list'], env).stdout.trim().split('\n').at(-1)).toBe('2 grant(s)');
      expect(run(['grants', 'add', '--team', 'nope', '--code', '*1#'], env)).toMatchObject({ code: 1, stderr: 'grants add failed: No team "nope": create it first (teams create NAME).\n' });
      expect(run(['grants', 'remove', '--team', 'loans', '--code', '*385*'], env)).toMatchObject({ code: 1, stderr: expect.stringContaining('Team loans holds no grant *385*') });
      expect(run(['grants', 'remove', '--team', 'loans', '--code', '*384*'], env)).toMatchObject({ code: 0, stdout: 'Removed grant *384* from team loans.\n' });
      expect(run(['grants', 'list', '--team', 'loans'], env).stdout).toBe('0 grant(s)\n');
    });

    it('writes an audit row for each team, key and grant change, as cli:<os user>, never with the key', async () => {
      const client = new pg.Client({ connectionString: keysDb.url });
      await client.connect();
      try {
        const { rows } = await client.query<{ actor: string; actor_kind: string; team: string; action: string; target_type: string; target_id: string; request_id: string | null; details: unknown }>(
          `SELECT actor, actor_kind, team, action, target_type, target_id, request_id, details FROM audit_log ORDER BY id`,
        );
        // From the tests above: one team created (the second create changed nothing), one key created and revoked, two grants added, one removed.
        expect(rows.map((r) => `${r.action} ${r.team} ${r.target_type}`)).toEqual([
          'team.create loans team',
          'key.create loans api-key',
          'key.revoke loans api-key',
          'grant.add loans service-code-grant',
          'grant.add default service-code-grant',
          'grant.remove loans service-code-grant',
        ]);
        for (const row of rows) expect(row).toMatchObject({ actor: 'cli:auditor', actor_kind: 'cli', request_id: null });
        expect(rows[1]?.details).toMatchObject({ name: 'ci-deployer', role: 'publisher' });
        expect(JSON.stringify(rows)).not.toContain('usk_');
      } finally {
        await client.end();
      }
    });
  });

  it('creates a key on the embedded database of a running api (npm start), which the api then accepts', async () => {
    const api = await spawnApp(fileURLToPath(new URL('../../apps/api/dist/main.js', import.meta.url)), { EMBEDDED_PG_DIR: 'pg' });
    try {
      const url = await api.listening;
      expect((await fetch(`${url}/workflows`)).status).toBe(401);
      const created = run(['keys', 'create', '--name', 'me', '--role', 'viewer'], { EMBEDDED_PG_DIR: join(api.workDir, 'pg') });
      expect(created.code).toBe(0);
      const key = created.stdout.trim().split('\n').at(-1)!;
      expect((await fetch(`${url}/workflows`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(200);
      expect((await fetch(`${url}/workflows`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{}' })).status).toBe(403);
    } finally {
      await api.cleanup();
    }
  });
});
