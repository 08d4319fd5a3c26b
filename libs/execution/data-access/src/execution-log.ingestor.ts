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
    return this.dataSource.transaction(async (manager) => {
      await this.placeholders(manager, events);
      await this.starts(manager, events.filter(isType('execution.started')));
      await this.finishes(manager, events.filter(isType('execution.finished')));
      const nodeRowsInserted = await this.nodes(manager, events.filter(isType('node.finished')));
      return { events: events.length, executionsTouched: new Set(events.map((e) => e.executionId)).size, nodeRowsInserted };
    });
  }

  /** Every execution the batch mentions exists afterwards (status running until told otherwise). */
  private async placeholders(manager: EntityManager, events: readonly ExecutionEvent[]): Promise<void> {
    const first = new Map<string, ExecutionEvent>();
    for (const event of events) {
      const seen = first.get(event.executionId);
      if (!seen || event.occurredAt < seen.occurredAt) first.set(event.executionId, event);
    }
    const rows = [...first.values()].sort(byExecutionId);
    await manager.query(
      `INSERT INTO execution_logs (execution_id, workflow_id, workflow_version, status, started_at)
       SELECT * FROM UNNEST($1::varchar[], $2::uuid[], $3::int[], $4::varchar[], $5::timestamptz[])
       ON CONFLICT (execution_id) DO NOTHING`,
      [rows.map((e) => e.executionId), rows.map((e) => e.workflowId), rows.map((e) => e.workflowVersion), rows.map(() => 'running'), rows.map((e) => e.occurredAt)],
    );
  }

  /** The start event carries the real start time, the trigger payload and the session. */
  private async starts(manager: EntityManager, events: readonly ExecutionEventEnvelope<'execution.started'>[]): Promise<void> {
    if (events.length === 0) return;
    const rows = latestPerExecution(events);
    await manager.query(
      `UPDATE execution_logs AS e SET
         started_at = s.started_at,
         trigger_payload = s.trigger_payload,
         session_id = s.session_id,
         status = CASE WHEN e.status = 'queued' THEN 'running' ELSE e.status END
       FROM UNNEST($1::varchar[], $2::timestamptz[], $3::jsonb[], $4::varchar[]) AS s(execution_id, started_at, trigger_payload, session_id)
       WHERE e.execution_id = s.execution_id`,
      [rows.map((e) => e.executionId), rows.map((e) => e.payload.startedAt), rows.map((e) => json(e.payload.triggerPayload)), rows.map((e) => e.payload.sessionId)],
    );
  }

  /** A terminal status is final: only the first finish (in commit order) is kept. */
  private async finishes(manager: EntityManager, events: readonly ExecutionEventEnvelope<'execution.finished'>[]): Promise<void> {
    if (events.length === 0) return;
    const rows = latestPerExecution(events);
    await manager.query(
      `UPDATE execution_logs AS e SET
         status = f.status, completed_at = f.completed_at, duration_ms = f.duration_ms, output = f.output, error = f.error
       FROM UNNEST($1::varchar[], $2::varchar[], $3::timestamptz[], $4::int[], $5::jsonb[], $6::jsonb[])
            AS f(execution_id, status, completed_at, duration_ms, output, error)
       WHERE e.execution_id = f.execution_id AND e.status NOT IN ${TERMINAL}`,
      [
        rows.map((e) => e.executionId),
        rows.map((e) => e.payload.status),
        rows.map((e) => e.payload.completedAt),
        rows.map((e) => Math.min(e.payload.durationMs, 2_147_483_647)),
        rows.map((e) => json(e.payload.output)),
        rows.map((e) => json(e.payload.error)),
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

/** One row per execution (UPDATE … FROM must not match a row twice); the latest event wins. */
function latestPerExecution<E extends ExecutionEvent>(events: readonly E[]): E[] {
  const latest = new Map<string, E>();
  for (const event of events) {
    const seen = latest.get(event.executionId);
    if (!seen || event.occurredAt >= seen.occurredAt) latest.set(event.executionId, event);
  }
  return [...latest.values()].sort(byExecutionId);
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
