import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { parseConfig } from '@ussd/platform-config';
import { createDataSource, migrateDatabase } from '@ussd/platform-database';
import { createTestDatabase, silentLogger, type TestDatabase } from '@ussd/platform-testing';
import { WorkflowEntity } from './workflow.entity.js';
import { type NewWorkflowVersion, VersionTakenError, WorkflowRepository } from './workflow.repository.js';

const spec = (marker: string) => ({ specVersion: 1, nodes: [{ id: marker, type: 'end' }] });

describe('WorkflowRepository against real PostgreSQL', () => {
  let database: TestDatabase;
  let dataSource: DataSource;
  let repo: WorkflowRepository;

  const draft = (workflowId: string, overrides: Partial<NewWorkflowVersion> = {}): NewWorkflowVersion => ({
    workflowId,
    name: 'Airtime menu',
    description: null,
    spec: spec('a'),
    createdBy: 'alice',
    tags: ['airtime'],
    environment: 'production',
    ...overrides,
  });

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    dataSource = await createDataSource(database.url, parseConfig({}, { appName: 'test', port: 0 }).database, 'test', [WorkflowEntity]).initialize();
    repo = new WorkflowRepository(dataSource);
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  it('numbers versions 1, 2, 3 and reads each, the latest, and the latest published', async () => {
    const id = randomUUID();
    const v1 = await repo.insertNextVersion(draft(id));
    const v2 = await repo.insertNextVersion(draft(id, { spec: spec('b') }));
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect(v1.isActive).toBe(true);
    expect(v1.publishedAt).toBeNull();
    expect(await repo.findLatestPublished(id)).toBeNull();
    await repo.publish(id, 1);
    const v3 = await repo.insertNextVersion(draft(id, { spec: spec('c') }));
    expect(v3.version).toBe(3);
    expect((await repo.findVersion(id, 2))?.spec).toEqual(spec('b'));
    expect((await repo.findLatest(id))?.version).toBe(3);
    expect((await repo.findLatestPublished(id))?.version).toBe(1);
    const versions = await repo.listVersions(id);
    expect(versions.map((v) => v.version)).toEqual([3, 2, 1]);
    expect(versions[0]?.spec).toBeUndefined();
    expect(await repo.findVersion(id, 99)).toBeNull();
  });

  it('lets exactly one of two concurrent writers add version N+1', async () => {
    const id = randomUUID();
    await repo.insertNextVersion(draft(id));
    const results = await Promise.allSettled([repo.insertNextVersion(draft(id), 1), repo.insertNextVersion(draft(id), 1)]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected');
    expect(rejected?.status === 'rejected' && rejected.reason).toBeInstanceOf(VersionTakenError);
    expect((await repo.listVersions(id)).map((v) => v.version)).toEqual([2, 1]);
  });

  it('also resolves a race without an expected version through the unique constraint', async () => {
    const id = randomUUID();
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => repo.insertNextVersion(draft(id))));
    const won = results.filter((r) => r.status === 'fulfilled').length;
    const lost = results.filter((r) => r.status === 'rejected' && r.reason instanceof VersionTakenError).length;
    expect(won + lost).toBe(4);
    expect(won).toBeGreaterThanOrEqual(1);
    expect((await repo.listVersions(id)).map((v) => v.version)).toEqual(Array.from({ length: won }, (_, i) => won - i));
  });

  it('refuses an insert based on a stale version', async () => {
    const id = randomUUID();
    await repo.insertNextVersion(draft(id));
    await repo.insertNextVersion(draft(id));
    await expect(repo.insertNextVersion(draft(id), 1)).rejects.toBeInstanceOf(VersionTakenError);
  });

  it('edits drafts only: a published version is immutable, and publishes once', async () => {
    const id = randomUUID();
    await repo.insertNextVersion(draft(id));
    const edited = await repo.updateDraft(id, 1, { spec: { quote: "it's" }, name: "O'Brien's flow", tags: ['x', 'y'] });
    expect(edited).toMatchObject({ spec: { quote: "it's" }, name: "O'Brien's flow", tags: ['x', 'y'] });
    const published = await repo.publish(id, 1);
    expect(published?.publishedAt).toBeInstanceOf(Date);
    expect(await repo.publish(id, 1)).toBeNull();
    expect(await repo.updateDraft(id, 1, { name: 'changed' })).toBeNull();
    expect((await repo.findVersion(id, 1))?.name).toBe("O'Brien's flow");
  });

  it('publishes in the same statement when asked (roll-back) and keeps a deactivated workflow deactivated', async () => {
    const id = randomUUID();
    await repo.insertNextVersion(draft(id));
    expect(await repo.setActive(id, false)).toBe(1);
    const v2 = await repo.insertNextVersion(draft(id, { publish: true }));
    expect(v2.publishedAt).toBeInstanceOf(Date);
    expect(v2.isActive).toBe(false);
  });

  describe('listActive', () => {
    const ids: string[] = [];
    const scope = randomUUID().slice(0, 8);
    beforeAll(async () => {
      // Five workflows, created in order; the third gets a second version later, the fifth is deactivated.
      for (let i = 0; i < 5; i++) {
        const id = randomUUID();
        ids.push(id);
        await repo.insertNextVersion(
          draft(id, {
            name: `${scope} flow ${i}${i === 1 ? ' 50%_off' : ''}`,
            tags: i % 2 === 0 ? ['even', scope] : ['odd', scope],
            environment: i < 3 ? 'production' : 'staging',
            createdBy: i === 4 ? 'bob' : 'alice',
          }),
        );
      }
      await repo.insertNextVersion(draft(ids[2]!, { name: `${scope} flow 2 v2`, tags: ['even', scope, 'new'] }));
      await repo.setActive(ids[4]!, false);
    });

    const names = (rows: WorkflowEntity[]) => rows.map((r) => r.name);

    it('returns each active workflow once, as its newest version, newest first', async () => {
      const rows = await repo.listActive({ tags: [scope] }, 10, { offset: 0 });
      expect(names(rows)).toEqual([`${scope} flow 2 v2`, `${scope} flow 3`, `${scope} flow 1 50%_off`, `${scope} flow 0`]);
      expect(rows[0]?.version).toBe(2);
    });

    it('filters by tags (any / all), environment, creator and name, treating % and _ literally', async () => {
      expect(names(await repo.listActive({ tags: [scope, 'new'], tagMode: 'all' }, 10, { offset: 0 }))).toEqual([`${scope} flow 2 v2`]);
      expect(await repo.listActive({ tags: ['odd', 'new'], tagMode: 'any', nameContains: scope }, 10, { offset: 0 })).toHaveLength(3);
      expect(names(await repo.listActive({ tags: [scope], environment: 'staging' }, 10, { offset: 0 }))).toEqual([`${scope} flow 3`]);
      expect(await repo.listActive({ tags: [scope], createdBy: 'bob' }, 10, { offset: 0 })).toEqual([]);
      expect(names(await repo.listActive({ nameContains: '50%_' }, 10, { offset: 0 }))).toEqual([`${scope} flow 1 50%_off`]);
      expect(await repo.listActive({ nameContains: `${scope} flow _` }, 10, { offset: 0 })).toEqual([]);
    });

    it('pages by offset and by keyset cursor to the same sequence', async () => {
      const all = names(await repo.listActive({ tags: [scope] }, 10, { offset: 0 }));
      const byOffset = [...(await repo.listActive({ tags: [scope] }, 2, { offset: 0 })), ...(await repo.listActive({ tags: [scope] }, 2, { offset: 2 }))];
      expect(names(byOffset)).toEqual(all);
      const first = await repo.listActive({ tags: [scope] }, 2, { offset: 0 });
      const last = first.at(-1)!;
      const second = await repo.listActive({ tags: [scope] }, 2, { after: { id: last.id } });
      expect(names([...first, ...second])).toEqual(all);
    });
  });

  it("runs the seed's workflow SQL statements verbatim against the migrated schema", async () => {
    const id = randomUUID();
    const seedSpec = JSON.stringify({ nodes: [] });
    // docs/database.md, "Workflow CRUD": Create, Read, Update, List, exactly as written there.
    await dataSource.query(`INSERT INTO workflows (workflow_id, version, name, spec, created_by)
VALUES ($1, $2, $3, $4, $5);`, [id, 1, 'Seed flow', seedSpec, 'seed']);
    await dataSource.query(`INSERT INTO workflows (workflow_id, version, name, spec, created_by)
VALUES ($1, $2, $3, $4, $5);`, [id, 2, 'Seed flow', seedSpec, 'seed']);
    const read = (await dataSource.query(`SELECT * FROM workflows
WHERE workflow_id = $1 AND version = $2;`, [id, 2])) as Record<string, unknown>[];
    expect(read).toHaveLength(1);
    expect(read[0]).toMatchObject({ workflow_id: id, version: 2, is_active: true, published_at: null, spec: { nodes: [] } });
    await dataSource.query(`UPDATE workflows
SET spec = $1, published_at = NOW()
WHERE workflow_id = $2 AND version = $3;`, [JSON.stringify({ nodes: ['x'] }), id, 2]);
    const list = (await dataSource.query(`SELECT * FROM workflows
WHERE is_active = true
ORDER BY created_at DESC
LIMIT $1 OFFSET $2;`, [1000, 0])) as Record<string, unknown>[];
    const mine = list.filter((r) => r['workflow_id'] === id);
    expect(mine.map((r) => r['version']).sort()).toEqual([1, 2]);
    expect(mine.find((r) => r['version'] === 2)).toMatchObject({ spec: { nodes: ['x'] } });
    expect(mine.find((r) => r['version'] === 2)?.['published_at']).toBeInstanceOf(Date);
    // The seed's single-column UNIQUE(workflow_id) would have refused version 2 (decision 0004).
  });
});
