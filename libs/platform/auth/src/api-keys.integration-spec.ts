import pg from 'pg';
import { parseConfig } from '@ussd/platform-config';
import { createDataSource, migrateDatabase } from '@ussd/platform-database';
import { createTestDatabase, silentLogger, type TestDatabase } from '@ussd/platform-testing';
import { ApiKeyInputError, ApiKeys, looksLikeApiKey } from './api-keys.js';
import { AuditLog } from './audit-log.js';
import { GrantInputError, GrantTeamNotFoundError, ServiceCodeGrants, uncoveredCodes } from './service-code-grants.js';
import { roleAtLeast, sees } from './identity.js';

describe('ApiKeys against real PostgreSQL', () => {
  let database: TestDatabase;
  let client: pg.Client;
  let now = Date.now();
  let keys: ApiKeys;

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    client = new pg.Client({ connectionString: database.url });
    await client.connect();
    keys = new ApiKeys({ query: async <T>(sql: string, parameters?: unknown[]) => (await client.query(sql, parameters)).rows as T }, () => now);
  });
  afterAll(async () => {
    await client?.end();
    await database?.drop();
  });

  it('creates a key shown once, stores only its digest, and verifies it as its team and role', async () => {
    expect(await keys.createTeam('loans')).toBe(true);
    expect(await keys.createTeam('loans')).toBe(false);
    const { key, record } = await keys.create({ name: 'ci', team: 'loans', role: 'publisher', createdBy: 'test' });
    expect(looksLikeApiKey(key)).toBe(true);
    expect(record).toMatchObject({ name: 'ci', team: 'loans', role: 'publisher', prefix: key.slice(0, 12), revokedAt: null, expiresAt: null });
    const stored = await client.query(`SELECT * FROM api_keys WHERE id = $1`, [record.id]);
    expect(JSON.stringify(stored.rows)).not.toContain(key.slice(4)); // no secret at rest, only its digest
    expect(await keys.verify(key)).toEqual({ kind: 'api-key', id: record.id, name: 'ci', team: 'loans', role: 'publisher' });
    expect(await keys.verify(`${key.slice(0, -2)}xx`)).toBeUndefined();
    expect(await keys.verify('usk_nope')).toBeUndefined();
  });

  it('refuses bad input with a sentence, and creates nothing', async () => {
    const before = (await keys.list()).length;
    await expect(keys.create({ name: 'x', team: 'no-such-team', role: 'viewer', createdBy: 't' })).rejects.toThrow(new ApiKeyInputError('No team "no-such-team": create it first (teams create NAME).'));
    await expect(keys.create({ name: '', team: 'loans', role: 'viewer', createdBy: 't' })).rejects.toThrow(ApiKeyInputError);
    await expect(keys.create({ name: 'x\u0000y', team: 'loans', role: 'viewer', createdBy: 't' })).rejects.toThrow(ApiKeyInputError);
    await expect(keys.create({ name: 'x', team: 'loans', role: 'root' as never, createdBy: 't' })).rejects.toThrow('Unknown role "root"');
    await expect(keys.create({ name: 'x', team: 'loans', role: 'viewer', createdBy: 't', expiresAt: new Date(now - 1000) })).rejects.toThrow('The expiry must be a time in the future.');
    for (const team of ['Loans', '-x', 'a b', "x'; DROP TABLE teams; --", 'x'.repeat(64), '']) await expect(keys.createTeam(team)).rejects.toThrow(ApiKeyInputError);
    expect((await keys.list()).length).toBe(before);
  });

  it('stops verifying a revoked key at once in this process, and an expired key at its expiry', async () => {
    const revoked = await keys.create({ name: 'to-revoke', team: 'loans', role: 'viewer', createdBy: 't' });
    expect(await keys.verify(revoked.key)).toBeDefined();
    expect((await keys.revoke(revoked.record.prefix))?.id).toBe(revoked.record.id);
    expect(await keys.verify(revoked.key)).toBeUndefined();
    expect(await keys.revoke(revoked.record.id)).toBeUndefined(); // already revoked

    const expiring = await keys.create({ name: 'to-expire', team: 'loans', role: 'viewer', createdBy: 't', expiresAt: new Date(now + 60_000) });
    expect(await keys.verify(expiring.key)).toBeDefined();
    now += 61_000;
    expect(await keys.verify(expiring.key)).toBeUndefined();
    expect(await keys.countLive()).toBe((await keys.list()).filter((k) => k.revokedAt === null && (k.expiresAt === null || k.expiresAt.getTime() > Date.now())).length);
  });

  it('sees a revocation made elsewhere (another replica, the CLI: a TypeORM DataSource) once its 10 s cache entry lapses', async () => {
    const dataSource = await createDataSource(database.url, parseConfig({}, { appName: 'test', port: 0 }).database, 'test').initialize();
    const other = new ApiKeys(dataSource);
    const { key, record } = await keys.create({ name: 'cached', team: 'loans', role: 'viewer', createdBy: 't' });
    expect(await keys.verify(key)).toBeDefined();
    try {
      expect((await other.revoke(record.prefix))?.id).toBe(record.id);
    } finally {
      await dataSource.destroy();
    }
    expect(await keys.verify(key)).toBeDefined(); // still cached here
    now += 10_001;
    expect(await keys.verify(key)).toBeUndefined();
  });

  it('orders roles and scopes teams: a team sees its own only (not an unknown owner’s), an admin everything', () => {
    expect(roleAtLeast('publisher', 'editor')).toBe(true);
    expect(roleAtLeast('editor', 'publisher')).toBe(false);
    const loans = { kind: 'api-key', id: '1', name: 'k', team: 'loans', role: 'editor' } as const;
    expect([sees(loans, 'loans'), sees(loans, 'airtime'), sees(loans, undefined)]).toEqual([true, false, false]);
    expect([sees({ ...loans, role: 'admin' }, 'airtime'), sees({ ...loans, role: 'admin' }, undefined)]).toEqual([true, true]);
  });
});

describe('AuditLog and ServiceCodeGrants against real PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: Awaited<ReturnType<ReturnType<typeof createDataSource>['initialize']>>;

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    dataSource = await createDataSource(database.url, parseConfig({}, { appName: 'test', port: 0 }).database, 'test').initialize();
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('writes a row with the change, and none when the change’s transaction rolls back', async () => {
    const audit = new AuditLog(dataSource);
    const entry = { actor: 'loans/ci', actorKind: 'api-key', team: 'loans', action: 'secret.set', targetType: 'secret', targetId: 'BILLING_TOKEN', requestId: 'r-1', details: { name: 'BILLING_TOKEN' } } as const;
    await expect(
      dataSource.transaction(async (manager) => {
        await audit.record(entry, manager);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect((await audit.list({}, 10)).items).toEqual([]);
    await dataSource.transaction((manager) => audit.record(entry, manager));
    const { items, nextCursor } = await audit.list({ targetType: 'secret' }, 10);
    expect(items).toEqual([expect.objectContaining({ actor: 'loans/ci', actorKind: 'api-key', team: 'loans', action: 'secret.set', targetId: 'BILLING_TOKEN', requestId: 'r-1', details: { name: 'BILLING_TOKEN' } })]);
    expect(nextCursor).toBeNull();
  });

  it('grants and removes patterns, each with one audit row, and refuses malformed patterns and unknown teams', async () => {
    const grants = new ServiceCodeGrants(dataSource);
    const by = { actor: 'cli:ops', actorKind: 'cli', requestId: null } as const;
    await expect(grants.add('default', '*384', by)).rejects.toThrow(GrantInputError);
    await expect(grants.add('nope', '*384*', by)).rejects.toThrow(GrantTeamNotFoundError);
    expect((await grants.add('default', '*384*', by)).added).toBe(true);
    expect((await grants.add('default', '*384*', by)).added).toBe(false);
    expect(await uncoveredCodes(dataSource, 'default', ['*384*1#', '*385*1#', '*384#'])).toEqual(['*385*1#', '*384#']);
    expect(await grants.remove('default', '*384*', by)).toBe(true);
    expect(await grants.remove('default', '*384*', by)).toBe(false);
    const actions = (await new AuditLog(dataSource).list({ targetType: 'service-code-grant' }, 10)).items.map((r) => r.action);
    expect(actions).toEqual(['grant.remove', 'grant.add']);
  });

  it('keeps the grants a publish read until it commits: a concurrent removal waits for it', async () => {
    await new ServiceCodeGrants(dataSource).add('default', '*777*', { actor: 'cli:ops', actorKind: 'cli', requestId: null });
    const publishing = new pg.Client({ connectionString: database.url });
    const removing = new pg.Client({ connectionString: database.url });
    await publishing.connect();
    await removing.connect();
    try {
      await publishing.query('BEGIN');
      const inTransaction = { query: async <T>(sql: string, parameters?: unknown[]) => (await publishing.query(sql, parameters)).rows as T };
      expect(await uncoveredCodes(inTransaction, 'default', ['*777*1#'])).toEqual([]);
      await removing.query(`SET lock_timeout = '300ms'`);
      const remove = `DELETE FROM service_code_grants WHERE team = 'default' AND pattern = '*777*'`;
      await expect(removing.query(remove)).rejects.toThrow(/lock timeout/);
      await publishing.query('COMMIT');
      expect((await removing.query(remove)).rowCount).toBe(1);
    } finally {
      await publishing.end();
      await removing.end();
    }
  });
});
