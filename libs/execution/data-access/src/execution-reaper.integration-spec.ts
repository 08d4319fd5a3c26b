import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { type MigratedDatabase, openMigratedDatabase } from './test-database.test-helpers.js';
import { ExecutionEventFactory } from './execution-event.factory.js';
import { ExecutionLogIngestor } from './execution-log.ingestor.js';
import { ExecutionLogRepository } from './execution-log.repository.js';
import { ExecutionReaper } from './execution-reaper.js';

describe('ExecutionReaper against real PostgreSQL', () => {
  let db: MigratedDatabase;
  let dataSource: DataSource;
  let ingestor: ExecutionLogIngestor;
  let repo: ExecutionLogRepository;

  beforeAll(async () => {
    db = await openMigratedDatabase();
    dataSource = db.dataSource;
    ingestor = new ExecutionLogIngestor(dataSource);
    repo = new ExecutionLogRepository(dataSource);
  });
  afterAll(async () => db?.close());

  it("times out running executions past their version's deadline, and only those", async () => {
    const workflowId = randomUUID();
    await dataSource.query(
      `INSERT INTO workflows (workflow_id, version, name, spec, created_by) VALUES ($1, 1, 'w', $2, 't')`,
      [workflowId, JSON.stringify({ settings: { executionTimeoutMs: 60_000, maxSteps: 10 } })],
    );
    const now = Date.now();
    const overdue = new ExecutionEventFactory(workflowId, 1, undefined, now - 10 * 60_000); // started 10 min ago, 1 min timeout
    const fresh = new ExecutionEventFactory(workflowId, 1, undefined, now - 5_000); // started 5 s ago
    const finished = new ExecutionEventFactory(workflowId, 1, undefined, now - 10 * 60_000);
    const orphan = new ExecutionEventFactory(randomUUID(), 3, undefined, now - 3 * 60 * 60_000); // unknown version: default timeout
    await ingestor.ingest([overdue.started(), fresh.started(), finished.started(), finished.finished('completed'), orphan.node('x')]);

    const reaped = await new ExecutionReaper(dataSource).reap({ defaultTimeoutMs: 60 * 60_000, graceMs: 30_000, limit: 100 });
    expect(reaped.sort()).toEqual([overdue.executionId, orphan.executionId].sort());
    expect(await repo.getExecution(overdue.executionId)).toMatchObject({ status: 'timeout', error: { code: 'execution.timeout' } });
    expect((await repo.getExecution(fresh.executionId))?.status).toBe('running');
    expect((await repo.getExecution(finished.executionId))?.status).toBe('completed');

    // A finish event that arrives after the reaper does not resurrect the execution.
    await ingestor.ingest([overdue.finished('completed')]);
    expect((await repo.getExecution(overdue.executionId))?.status).toBe('timeout');
    expect(await new ExecutionReaper(dataSource).reap({ defaultTimeoutMs: 60 * 60_000, graceMs: 30_000, limit: 100 })).toEqual([]);
  });

  it('lets several reapers run at once without ending anything twice', async () => {
    const workflowId = randomUUID();
    const factories = Array.from({ length: 30 }, () => new ExecutionEventFactory(workflowId, 1, undefined, Date.now() - 2 * 60 * 60_000));
    await ingestor.ingest(factories.map((f) => f.started()));
    const reaper = new ExecutionReaper(dataSource);
    const options = { defaultTimeoutMs: 60_000, graceMs: 0, limit: 10 };
    const results = await Promise.all(Array.from({ length: 6 }, () => reaper.reap(options)));
    const all = results.flat();
    expect(new Set(all).size).toBe(all.length);
    const mine = all.filter((id) => factories.some((f) => f.executionId === id));
    expect(mine.length).toBeLessThanOrEqual(30);
    while ((await reaper.reap(options)).length > 0);
    const statuses = await Promise.all(factories.map(async (f) => (await repo.getExecution(f.executionId))?.status));
    expect(new Set(statuses)).toEqual(new Set(['timeout']));
  });
});
