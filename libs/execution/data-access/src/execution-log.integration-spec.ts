import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { type MigratedDatabase, openMigratedDatabase } from './test-database.test-helpers.js';
import { ExecutionEventFactory } from './execution-event.factory.js';
import { ExecutionLogIngestor } from './execution-log.ingestor.js';
import { ExecutionLogRepository } from './execution-log.repository.js';

describe('execution log ingestion and queries against real PostgreSQL', () => {
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

  const count = async (sql: string, params: unknown[]) => Number(((await dataSource.query(sql, params)) as { n: string }[])[0]?.n);

  it('writes an execution and its node attempts, readable in executed_at order', async () => {
    const f = new ExecutionEventFactory();
    const started = f.started({ amount: 50 }, 'session-1');
    const a = f.node('fetch', { status: 'failed', error: { code: 'http.status.503', message: 'unavailable' }, attempt: 0, nodeType: 'http.request' });
    const b = f.node('fetch', { attempt: 1, nodeType: 'http.request' });
    const c = f.node('bye', { nodeType: 'end' });
    const done = f.finished('completed', { balance: 10 });
    const result = await ingestor.ingest([started, a, b, c, done]);
    expect(result).toEqual({ events: 5, executionsTouched: 1, nodeRowsInserted: 3 });

    const execution = await repo.getExecution(f.executionId);
    expect(execution).toMatchObject({
      workflowId: f.workflowId,
      workflowVersion: 1,
      status: 'completed',
      startedAt: started.payload.startedAt,
      completedAt: done.payload.completedAt,
      durationMs: 42,
      triggerPayload: { amount: 50 },
      output: { balance: 10 },
      error: null,
      sessionId: 'session-1',
    });
    const nodes = await repo.getNodeResults(f.executionId);
    expect(nodes.map((n) => [n.nodeId, n.attempt, n.status])).toEqual([
      ['fetch', 0, 'failed'],
      ['fetch', 1, 'completed'],
      ['bye', 0, 'completed'],
    ]);
    expect(nodes[0]?.error).toEqual({ code: 'http.status.503', message: 'unavailable' });
    expect(nodes[0]?.id).toBe(a.payload.nodeExecutionId);
  });

  it('is idempotent: the same events again (alone or mixed into another batch) add nothing', async () => {
    const f = new ExecutionEventFactory();
    const events = [f.started(), f.node('one'), f.node('two'), f.finished()];
    await ingestor.ingest(events);
    const again = await ingestor.ingest([...events, ...events]);
    expect(again).toMatchObject({ events: 4, nodeRowsInserted: 0 });
    expect(await count(`SELECT COUNT(*) AS n FROM node_execution_logs WHERE execution_id = $1`, [f.executionId])).toBe(2);
    expect(await count(`SELECT COUNT(*) AS n FROM execution_logs WHERE execution_id = $1`, [f.executionId])).toBe(1);
  });

  it('accepts any order: nodes and finish before the start, across batches, without FK errors or regressions', async () => {
    const f = new ExecutionEventFactory();
    const started = f.started({ late: true });
    const node = f.node('only');
    const finished = f.finished('failed');
    await ingestor.ingest([node]);
    expect((await repo.getExecution(f.executionId))?.status).toBe('running');
    await ingestor.ingest([finished]);
    await ingestor.ingest([started]);
    const execution = await repo.getExecution(f.executionId);
    expect(execution).toMatchObject({ status: 'failed', startedAt: started.payload.startedAt, triggerPayload: { late: true } });
    expect(execution?.error).toEqual({ code: 'execution.failed', message: 'failed' });
  });

  it('fills in a late start whose trigger payload is null (the start is told apart from a placeholder)', async () => {
    const f = new ExecutionEventFactory();
    const started = f.started(null, 'session-42');
    await ingestor.ingest([f.node('first')]);
    await ingestor.ingest([started]);
    expect(await repo.getExecution(f.executionId)).toMatchObject({ status: 'running', startedAt: started.payload.startedAt, triggerPayload: null, sessionId: 'session-42' });
  });

  it('never lets a later finish or a late start overwrite a terminal status', async () => {
    const f = new ExecutionEventFactory();
    await ingestor.ingest([f.started(), f.finished('completed', { first: true })]);
    await ingestor.ingest([f.finished('timeout'), f.started()]);
    expect(await repo.getExecution(f.executionId)).toMatchObject({ status: 'completed', output: { first: true } });
  });

  it('records a capped output with its cap, and stores text the JSONB type would refuse', async () => {
    const f = new ExecutionEventFactory();
    await ingestor.ingest([
      f.started(),
      f.node('big', { output: { preview: 'abc' }, outputTruncated: { originalBytes: 100_000, capBytes: 16_384 } }),
      f.node('nul', { output: { text: 'a\u0000b' } }),
    ]);
    const nodes = await repo.getNodeResults(f.executionId);
    expect(nodes[0]?.error).toEqual({ outputTruncated: { originalBytes: 100_000, capBytes: 16_384 } });
    expect(nodes[1]?.output).toEqual({ text: 'a\uFFFDb' });
  });

  it('lets two ingesters write overlapping batches at once: no duplicates, no FK errors, no deadlock', async () => {
    const factories = Array.from({ length: 20 }, () => new ExecutionEventFactory());
    const events = factories.flatMap((f) => [f.started(), f.node('a'), f.node('b'), f.finished()]);
    const shuffled = [...events].sort(() => Math.random() - 0.5);
    const other = new ExecutionLogIngestor(dataSource);
    await Promise.all([
      ingestor.ingest(shuffled.slice(0, 50)),
      other.ingest(shuffled.slice(30)),
      ingestor.ingest([...shuffled].reverse().slice(0, 40)),
    ]);
    const ids = factories.map((f) => f.executionId);
    expect(await count(`SELECT COUNT(*) AS n FROM node_execution_logs WHERE execution_id = ANY($1)`, [ids])).toBe(40);
    expect(await count(`SELECT COUNT(*) AS n FROM execution_logs WHERE execution_id = ANY($1) AND status = 'completed'`, [ids])).toBe(20);
  });

  it('queries executions newest first with filters and keyset pages', async () => {
    const workflowId = randomUUID();
    const base = Date.parse('2026-03-01T00:00:00.000Z');
    const factories = Array.from({ length: 5 }, (_, i) => new ExecutionEventFactory(workflowId, 1, undefined, base + i * 60_000));
    await ingestor.ingest(factories.flatMap((f, i) => [f.started(), f.finished(i % 2 ? 'failed' : 'completed')]));
    const all = await repo.queryExecutions({ workflowId, limit: 10 });
    expect(all.map((e) => e.executionId)).toEqual([...factories].reverse().map((f) => f.executionId));
    expect((await repo.queryExecutions({ workflowId, status: 'failed', limit: 10 })).map((e) => e.executionId)).toEqual([factories[3], factories[1]].map((f) => f!.executionId));
    const window = await repo.queryExecutions({ workflowId, from: new Date(base + 60_000), to: new Date(base + 3 * 60_000), limit: 10 });
    expect(window).toHaveLength(2);
    const first = await repo.queryExecutions({ workflowId, limit: 2 });
    const second = await repo.queryExecutions({ workflowId, limit: 2, afterExecutionId: first[1]!.executionId });
    const third = await repo.queryExecutions({ workflowId, limit: 2, afterExecutionId: second[1]!.executionId });
    expect([...first, ...second, ...third].map((e) => e.executionId)).toEqual(all.map((e) => e.executionId));
    expect(await repo.getExecution('no-such-execution')).toBeNull();
  });

  it("runs the seed's execution-log SQL statements verbatim against the migrated schema", async () => {
    const f = new ExecutionEventFactory();
    await ingestor.ingest([f.started(), f.node('x'), f.finished()]);
    // docs/database.md, "Execution Log Queries", exactly as written there.
    const execution = (await dataSource.query(`SELECT * FROM execution_logs
WHERE execution_id = $1;`, [f.executionId])) as Record<string, unknown>[];
    expect(execution).toHaveLength(1);
    const listed = (await dataSource.query(`SELECT * FROM execution_logs
WHERE workflow_id = $1
  AND status = $2
  AND started_at >= $3
  AND started_at <= $4
ORDER BY started_at DESC
LIMIT $5;`, [f.workflowId, 'completed', new Date(0), new Date('2100-01-01'), 10])) as Record<string, unknown>[];
    expect(listed.map((r) => r['execution_id'])).toEqual([f.executionId]);
    const nodes = (await dataSource.query(`SELECT * FROM node_execution_logs
WHERE execution_id = $1
ORDER BY executed_at ASC;`, [f.executionId])) as Record<string, unknown>[];
    expect(nodes.map((r) => r['node_id'])).toEqual(['x']);
    // ON DELETE CASCADE: deleting the execution removes its node rows.
    await dataSource.query(`DELETE FROM execution_logs WHERE execution_id = $1`, [f.executionId]);
    expect(await count(`SELECT COUNT(*) AS n FROM node_execution_logs WHERE execution_id = $1`, [f.executionId])).toBe(0);
  });
});
