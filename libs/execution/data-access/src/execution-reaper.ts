import type { DataSource } from 'typeorm';

export interface ReapOptions {
  /** Used when the workflow version (or its settings) cannot be found. */
  readonly defaultTimeoutMs: number;
  /** Extra time past the deadline, so events still in flight can land first. */
  readonly graceMs: number;
  /** Most rows ended per call. */
  readonly limit: number;
}

/**
 * Ends executions stuck in `queued`/`running` past their deadline (started_at + the pinned
 * version's settings.executionTimeoutMs + grace) as `timeout`. The UPDATE's own WHERE re-checks
 * the status, so a terminal status is never overwritten, and SKIP LOCKED lets every replica run
 * the reaper at once without waiting on each other.
 */
export class ExecutionReaper {
  constructor(private readonly dataSource: DataSource) {}

  async reap(options: ReapOptions): Promise<string[]> {
    const rows = (await this.dataSource.query(
      `WITH overdue AS (
         SELECT e.id
           FROM execution_logs e
           LEFT JOIN workflows w ON w.workflow_id = e.workflow_id AND w.version = e.workflow_version
          WHERE e.status IN ('queued', 'running')
            AND e.started_at + make_interval(secs => (
                  CASE WHEN jsonb_typeof(w.spec -> 'settings' -> 'executionTimeoutMs') = 'number'
                       THEN (w.spec -> 'settings' ->> 'executionTimeoutMs')::numeric
                       ELSE $1::numeric END + $2::numeric) / 1000.0) < NOW()
          ORDER BY e.started_at
          LIMIT $3
          FOR UPDATE OF e SKIP LOCKED
       )
       UPDATE execution_logs e
          SET status = 'timeout',
              completed_at = NOW(),
              duration_ms = LEAST(EXTRACT(EPOCH FROM (NOW() - e.started_at)) * 1000, 2147483647)::int,
              error = jsonb_build_object('code', 'execution.timeout', 'message', 'no outcome before the execution deadline; ended by the reaper')
         FROM overdue
        WHERE e.id = overdue.id AND e.status IN ('queued', 'running')
        RETURNING e.execution_id`,
      [options.defaultTimeoutMs, options.graceMs, options.limit],
    )) as unknown;
    const list = Array.isArray(rows) && Array.isArray(rows[0]) ? (rows[0] as { execution_id: string }[]) : (rows as { execution_id: string }[]);
    return list.map((r) => r.execution_id);
  }
}
