import type { DataSource, EntityManager } from 'typeorm';
import type { ExecutionEvent, ExecutionEventEnvelope } from '@ussd/execution-domain';

const TERMINAL = `('completed', 'failed', 'timeout', 'canceled')`;

export interface IngestResult {
  /** Distinct events in the batch (duplicates by eventId counted once). */
  readonly events: number;
  readonly executionsTouched: number;
  /** Node rows actually written; a redelivered event writes none. */
  readonly nodeRowsInserted: number;
}

/**
 * Turns a batch of execution events into rows, in one transaction, idempotently and in any
 * order: the same event twice never makes two rows, a node event that overtakes its
 * execution's start still satisfies the foreign key (a placeholder execution row is made from
 * the envelope and completed when the start arrives), and a late `running` never overwrites
 * a terminal status. Rows are written with one multi-row statement per kind (UNNEST), sorted
 * by execution id so concurrent ingesters lock rows in the same order and cannot deadlock.
 */
export class ExecutionLogIngestor {
  constructor(private readonly dataSource: DataSource) {}

  async ingest(batch: readonly ExecutionEvent[]): Promise<IngestResult> {
    const events = dedupe(batch);
    if (events.length === 0) return { events: 0, executionsTouched: 0, nodeRowsInserted: 0 };
    const executions = mergePerExecution(events);
    return this.dataSource.transaction(async (manager) => {
      await this.upsertExecutions(manager, executions);
      const nodeRowsInserted = await this.nodes(manager, events.filter(isType('node.finished')));
      return { events: events.length, executionsTouched: executions.length, nodeRowsInserted };
    });
  }

  /**
   * One statement, one row write per execution per batch: what the batch knows of an execution
   * (its start, its finish, or only that it exists) is folded into one record first. A start's
   * fields always win; a terminal status already stored is never replaced; an execution the
   * batch neither starts nor finishes is only created if missing. One statement over rows
   * sorted by id also means one lock order, so concurrent ingesters cannot deadlock.
   *
   * Whether the batch holds the start is told by `EXCLUDED.trigger_payload IS NOT NULL`: a start
   * always carries a payload (a null payload is the JSON `null`), a placeholder never does. A
   * correlated lookup of a flag in the input instead made every conflicting row scan the whole
   * batch (quadratic in the batch size).
   */
  private async upsertExecutions(manager: EntityManager, rows: readonly MergedExecution[]): Promise<void> {
    const hasStart = 'EXCLUDED.trigger_payload IS NOT NULL';
    const keep = (column: string) => `CASE WHEN execution_logs.status IN ${TERMINAL} THEN execution_logs.${column} ELSE EXCLUDED.${column} END`;
    const started = (column: string) => `CASE WHEN ${hasStart} THEN EXCLUDED.${column} ELSE execution_logs.${column} END`;
    await manager.query(
      `INSERT INTO execution_logs (execution_id, workflow_id, workflow_version, status, started_at, completed_at, duration_ms, trigger_payload, output, error, session_id)
       SELECT * FROM UNNEST($1::varchar[], $2::uuid[], $3::int[], $4::varchar[], $5::timestamptz[], $6::timestamptz[], $7::int[], $8::jsonb[], $9::jsonb[], $10::jsonb[], $11::varchar[])
       ON CONFLICT (execution_id) DO UPDATE SET
         started_at = ${started('started_at')}, trigger_payload = ${started('trigger_payload')}, session_id = ${started('session_id')},
         status = ${keep('status')}, completed_at = ${keep('completed_at')}, duration_ms = ${keep('duration_ms')},
         output = ${keep('output')}, error = ${keep('error')}
       WHERE ${hasStart} OR (execution_logs.status NOT IN ${TERMINAL} AND EXCLUDED.status IN ${TERMINAL})`,
      [
        rows.map((r) => r.executionId),
        rows.map((r) => r.workflowId),
        rows.map((r) => r.workflowVersion),
        rows.map((r) => r.status),
        rows.map((r) => r.startedAt),
        rows.map((r) => r.completedAt),
        rows.map((r) => r.durationMs),
        rows.map((r) => r.triggerPayload),
        rows.map((r) => r.output),
        rows.map((r) => r.error),
        rows.map((r) => r.sessionId),
      ],
    );
  }

  private async nodes(manager: EntityManager, events: readonly ExecutionEventEnvelope<'node.finished'>[]): Promise<number> {
    if (events.length === 0) return 0;
    const rows = [...events].sort(byExecutionId);
    const error = (e: ExecutionEventEnvelope<'node.finished'>) =>
      e.payload.error === null && !e.payload.outputTruncated ? null : { ...(e.payload.error ?? {}), ...(e.payload.outputTruncated ? { outputTruncated: e.payload.outputTruncated } : {}) };
    const inserted = (await manager.query(
      `INSERT INTO node_execution_logs (id, execution_id, node_id, node_type, status, output, error, duration_ms, executed_at, attempt)
       SELECT * FROM UNNEST($1::uuid[], $2::varchar[], $3::varchar[], $4::varchar[], $5::varchar[], $6::jsonb[], $7::jsonb[], $8::int[], $9::timestamptz[], $10::int[])
       ON CONFLICT (id) DO NOTHING
       RETURNING id`,
      [
        rows.map((e) => e.payload.nodeExecutionId),
        rows.map((e) => e.executionId),
        rows.map((e) => e.payload.nodeId),
        rows.map((e) => e.payload.nodeType),
        rows.map((e) => e.payload.status),
        rows.map((e) => json(e.payload.output)),
        rows.map((e) => json(error(e))),
        rows.map((e) => Math.min(e.payload.durationMs, 2_147_483_647)),
        rows.map((e) => e.payload.executedAt),
        rows.map((e) => e.payload.attempt),
      ],
    )) as unknown[];
    return inserted.length;
  }
}

function dedupe(batch: readonly ExecutionEvent[]): ExecutionEvent[] {
  const seen = new Set<string>();
  return batch.filter((event) => (seen.has(event.eventId) ? false : (seen.add(event.eventId), true)));
}

function isType<T extends ExecutionEvent['type']>(type: T) {
  return (event: ExecutionEvent): event is Extract<ExecutionEvent, { type: T }> => event.type === type;
}

function byExecutionId(a: { executionId: string }, b: { executionId: string }): number {
  return a.executionId < b.executionId ? -1 : a.executionId > b.executionId ? 1 : 0;
}

interface MergedExecution {
  readonly executionId: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  hasStart: boolean;
  status: string;
  startedAt: string;
  completedAt: string | null;
  durationMs: number | null;
  triggerPayload: string | null;
  output: string | null;
  error: string | null;
  sessionId: string | null;
}

/** Folds a batch into one record per execution, sorted by execution id (lock order). */
function mergePerExecution(events: readonly ExecutionEvent[]): MergedExecution[] {
  const merged = new Map<string, MergedExecution>();
  for (const event of events) {
    let row = merged.get(event.executionId);
    if (!row) {
      row = {
        executionId: event.executionId,
        workflowId: event.workflowId,
        workflowVersion: event.workflowVersion,
        hasStart: false,
        status: 'running',
        startedAt: event.occurredAt,
        completedAt: null,
        durationMs: null,
        triggerPayload: null,
        output: null,
        error: null,
        sessionId: null,
      };
      merged.set(event.executionId, row);
    }
    if (!row.hasStart && event.occurredAt < row.startedAt) row.startedAt = event.occurredAt;
    if (event.type === 'execution.started') {
      row.hasStart = true;
      row.startedAt = event.payload.startedAt;
      row.triggerPayload = json(event.payload.triggerPayload) ?? 'null'; // never SQL NULL: NULL marks a row without its start
      row.sessionId = event.payload.sessionId;
    } else if (event.type === 'execution.finished' && row.completedAt === null) {
      // The first finish in the batch wins, as the first committed finish wins across batches.
      row.status = event.payload.status;
      row.completedAt = event.payload.completedAt;
      row.durationMs = Math.min(event.payload.durationMs, 2_147_483_647);
      row.output = json(event.payload.output);
      row.error = json(event.payload.error);
    }
  }
  return [...merged.values()].sort(byExecutionId);
}

/**
 * JSONB parameters go as text; undefined becomes SQL NULL. PostgreSQL's jsonb refuses the
 * NUL character, which an HTTP response can contain: it is replaced, not allowed to poison
 * the whole batch.
 */
function json(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' && v.includes('\0') ? v.replaceAll('\0', '\uFFFD') : v)) ?? null;
}
