import { parseConfig } from '@ussd/platform-config';
import { createTestDatabase, silentLogger, type TestDatabase } from '@ussd/platform-testing';
import type { DataSource } from 'typeorm';
import { createDataSource } from './data-source.js';
import { migrationStatus, revertLastMigration, runMigrations } from './migrations.js';
import { MIGRATIONS } from './migrations/index.js';

const config = parseConfig({}, { appName: 'test', port: 0 });
const logger = silentLogger();

async function tables(dataSource: DataSource): Promise<string[]> {
  const rows: { table_name: string }[] = await dataSource.query(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'typeorm_migrations' ORDER BY 1`,
  );
  return rows.map((r) => r.table_name);
}

describe('migrations on real PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    dataSource = await createDataSource(database.url, config.database, 'test').initialize();
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('lists every migration in timestamp order', () => {
    const names = MIGRATIONS.map((m) => m.name);
    const stamps = names.map((n) => Number(/(\d{13})$/.exec(n)?.[1]));
    expect(stamps.every(Number.isFinite)).toBe(true);
    expect([...stamps].sort((a, b) => a - b)).toEqual(stamps);
  });

  it('applies all pending migrations once, then reports none pending', async () => {
    expect((await migrationStatus(dataSource)).pending).toHaveLength(MIGRATIONS.length);
    const applied = await runMigrations(dataSource, logger);
    expect(applied).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await runMigrations(dataSource, logger)).toEqual([]);
    expect(await migrationStatus(dataSource)).toEqual({ applied: applied, pending: [] });
    expect(await tables(dataSource)).toEqual(['api_keys', 'audit_log', 'execution_logs', 'execution_retries', 'node_execution_logs', 'service_code_grants', 'team_secrets', 'teams', 'ussd_claims', 'workflow_teams', 'workflows']);
  });

  it('creates the seed schema, with the composite unique key on workflows and not the single-column one', async () => {
    const constraints: { def: string }[] = await dataSource.query(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'workflows'::regclass AND contype = 'u'`,
    );
    expect(constraints.map((c) => c.def)).toEqual(['UNIQUE (workflow_id, version)']);
    const indexes: { indexname: string }[] = await dataSource.query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'idx_%' ORDER BY 1`,
    );
    expect(indexes.map((i) => i.indexname)).toEqual([
      'idx_api_keys_team',
      'idx_audit_log_action',
      'idx_audit_log_actor',
      'idx_audit_log_at',
      'idx_audit_log_target',
      'idx_audit_log_team',
      'idx_execution_logs_execution_id',
      'idx_execution_logs_session_id',
      'idx_execution_logs_started_at',
      'idx_execution_logs_status',
      'idx_execution_logs_workflow_id',
      'idx_execution_retries_retry_of',
      'idx_node_execution_logs_execution_id',
      'idx_node_execution_logs_node_id',
      'idx_node_execution_logs_status',
      'idx_team_secrets_key_version',
      'idx_ussd_claims_workflow_id',
      'idx_workflow_teams_team',
      'idx_workflows_created_by',
      'idx_workflows_environment',
      'idx_workflows_tags',
      'idx_workflows_workflow_id',
    ]);
    const fk: { def: string }[] = await dataSource.query(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'node_execution_logs'::regclass AND contype = 'f'`,
    );
    expect(fk[0]?.def).toBe('FOREIGN KEY (execution_id) REFERENCES execution_logs(execution_id) ON DELETE CASCADE');
  });

  it('reverts migrations one at a time, newest first, down to an empty schema, and re-applies', async () => {
    const reverted: (string | undefined)[] = [];
    for (let i = 0; i < MIGRATIONS.length; i++) reverted.push(await revertLastMigration(dataSource, logger));
    expect(reverted).toEqual(MIGRATIONS.map((m) => m.name).reverse());
    expect(await tables(dataSource)).toEqual([]);
    expect(await revertLastMigration(dataSource, logger)).toBeUndefined();
    await runMigrations(dataSource, logger);
    expect((await migrationStatus(dataSource)).pending).toEqual([]);
  });

  it('lets two processes migrate the same database at once: one applies, the other waits and finds nothing to do', async () => {
    const fresh = await createTestDatabase();
    const a = await createDataSource(fresh.url, config.database, 'a').initialize();
    const b = await createDataSource(fresh.url, config.database, 'b').initialize();
    try {
      const [ra, rb] = await Promise.all([runMigrations(a, logger), runMigrations(b, logger)]);
      expect([...ra, ...rb]).toEqual(MIGRATIONS.map((m) => m.name));
    } finally {
      await a.destroy();
      await b.destroy();
      await fresh.drop();
    }
  });

  it('backfills USSD claims from the newest published version of active workflows; the earliest publisher keeps a contested pair', async () => {
    const fresh = await createTestDatabase();
    const db = await createDataSource(fresh.url, config.database, 'claims').initialize();
    try {
      await runMigrations(db, logger);
      while ((await revertLastMigration(db, logger)) !== 'CreateUssdClaims1795600003000'); // back to before ussd_claims
      const ussd = (code: string, environments: string[]) => JSON.stringify({ triggers: [{ type: 'ussd', serviceCode: code, environments, entry: 'a' }, { type: 'http', entry: 'a' }] });
      const insert = `INSERT INTO workflows (workflow_id, version, name, spec, created_by, published_at, is_active) VALUES ($1, $2, 'w', $3::jsonb, 't', $4, $5)`;
      const [a, b, c, d] = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-00000000000c', '00000000-0000-4000-8000-00000000000d'];
      await db.query(insert, [a, 1, ussd('*1#', ['production']), '2026-01-01T00:00:00Z', true]);
      await db.query(insert, [a, 2, ussd('*2#', ['production', 'staging']), '2026-01-02T00:00:00Z', true]); // newest published wins
      await db.query(insert, [a, 3, ussd('*3#', ['production']), null, true]); // a draft claims nothing
      await db.query(insert, [b, 1, ussd('*2#', ['production']), '2026-01-03T00:00:00Z', true]); // contested: a published first
      await db.query(insert, [c, 1, ussd('*4#', ['production']), '2026-01-01T00:00:00Z', false]); // inactive
      await db.query(insert, [d, 1, JSON.stringify({ triggers: 'garbage' }), '2026-01-01T00:00:00Z', true]); // malformed spec is skipped
      await runMigrations(db, logger);
      const rows: { service_code: string; environment: string; workflow_id: string }[] = await db.query(
        `SELECT service_code, environment, workflow_id FROM ussd_claims ORDER BY service_code, environment`,
      );
      expect(rows).toEqual([
        { service_code: '*2#', environment: 'production', workflow_id: a },
        { service_code: '*2#', environment: 'staging', workflow_id: a },
      ]);
      // Workflows from before teams belong to the default team (CreateWorkflowTeams).
      expect(await db.query(`SELECT workflow_id, team FROM workflow_teams ORDER BY workflow_id`)).toEqual([a, b, c, d].map((id) => ({ workflow_id: id, team: 'default' })));
    } finally {
      await db.destroy();
      await fresh.drop();
    }
  });

  it('grants each team the codes its published versions claim (active or not), nothing for drafts or malformed codes', async () => {
    const fresh = await createTestDatabase();
    const db = await createDataSource(fresh.url, config.database, 'grants').initialize();
    try {
      await runMigrations(db, logger);
      while ((await revertLastMigration(db, logger)) !== 'CreateServiceCodeGrants1795600006000'); // back to before grants
      await db.query(`INSERT INTO teams (name) VALUES ('loans'), ('airtime')`);
      const ussd = (...codes: string[]) => JSON.stringify({ triggers: [...codes.map((code) => ({ type: 'ussd', serviceCode: code, environments: ['production'], entry: 'a' })), { type: 'http', entry: 'a' }] });
      const insert = `INSERT INTO workflows (workflow_id, version, name, spec, created_by, published_at, is_active) VALUES ($1, $2, 'w', $3::jsonb, 't', $4, $5)`;
      const [a, b, c] = ['00000000-0000-4000-8000-00000000000a', '00000000-0000-4000-8000-00000000000b', '00000000-0000-4000-8000-00000000000c'];
      await db.query(insert, [a, 1, ussd('*384*1#'), '2026-01-01T00:00:00Z', true]);
      await db.query(insert, [a, 2, ussd('*384*2#', '*384*3#'), '2026-01-02T00:00:00Z', true]);
      await db.query(insert, [a, 3, ussd('*384*9#'), null, true]); // a draft: not granted
      await db.query(insert, [b, 1, ussd('*500#', "*1#'; DROP TABLE teams; --"), '2026-01-01T00:00:00Z', false]); // inactive still granted; a malformed code is not
      await db.query(insert, [c, 1, JSON.stringify({ triggers: 'garbage' }), '2026-01-01T00:00:00Z', true]);
      await db.query(`INSERT INTO workflow_teams (workflow_id, team) VALUES ($1, 'loans'), ($2, 'airtime'), ($3, 'default') ON CONFLICT (workflow_id) DO UPDATE SET team = EXCLUDED.team`, [a, b, c]);
      await runMigrations(db, logger);
      expect(await db.query(`SELECT team, pattern FROM service_code_grants ORDER BY team, pattern`)).toEqual([
        { team: 'airtime', pattern: '*500#' },
        { team: 'loans', pattern: '*384*1#' },
        { team: 'loans', pattern: '*384*2#' },
        { team: 'loans', pattern: '*384*3#' },
      ]);
      await expect(db.query(`INSERT INTO service_code_grants (team, pattern, created_by) VALUES ('loans', '*384', 't')`)).rejects.toThrow(/check constraint/);
    } finally {
      await db.destroy();
      await fresh.drop();
    }
  });
});
