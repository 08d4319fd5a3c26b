import type { DataSource } from 'typeorm';
import type { ExecutionStatus } from '@ussd/execution-domain';

export interface ExecutionRow {
  readonly executionId: string;
  readonly workflowId: string;
  readonly workflowVersion: number;
  readonly status: string;
  readonly startedAt: string;
  readonly completedAt: string | null;
  readonly durationMs: number | null;
  readonly triggerPayload: unknown;
  readonly output: unknown;
  readonly error: unknown;
  readonly sessionId: string | null;
}

export interface NodeResultRow {
  readonly id: string;
  readonly nodeId: string;
  readonly nodeType: string;
  readonly status: string;
  readonly output: unknown;
  readonly error: unknown;
  readonly durationMs: number;
  readonly executedAt: string;
  readonly attempt: number;
}

export interface ExecutionQuery {
  readonly workflowId?: string;
  readonly status?: ExecutionStatus;
  readonly from?: Date;
  readonly to?: Date;
  readonly limit: number;
  /** Keyset position: the execution id of the last item of the previous page. */
  readonly afterExecutionId?: string;
  /** Only executions of this team's workflows. */
  readonly team?: string;
}

const EXECUTION_COLUMNS = `execution_id, workflow_id, workflow_version, status, started_at, completed_at, duration_ms, trigger_payload, output, error, session_id`;

/**
 * The seed's execution-log queries (docs/database.md, "Execution Log Queries"), parameterised:
 * get one execution, its node results ordered by executed_at, and the filtered list newest
 * first with keyset pages.
 */
export class ExecutionLogRepository {
  constructor(private readonly dataSource: DataSource) {}

  async getExecution(executionId: string): Promise<ExecutionRow | null> {
    const rows = (await this.dataSource.query(`SELECT ${EXECUTION_COLUMNS} FROM execution_logs WHERE execution_id = $1`, [executionId])) as Record<string, unknown>[];
    return rows[0] ? toExecution(rows[0]) : null;
  }

  /** Records that `executionId` retries `retryOf` (written when the retry is accepted). */
  async recordRetry(executionId: string, retryOf: string): Promise<void> {
    await this.dataSource.query(`INSERT INTO execution_retries (execution_id, retry_of) VALUES ($1, $2) ON CONFLICT (execution_id) DO NOTHING`, [executionId, retryOf]);
  }

  /** The execution this one retries, and the retries of this one. */
  async retryLinks(executionId: string): Promise<{ retryOf: string | null; retries: string[] }> {
    const rows = (await this.dataSource.query(
      `SELECT execution_id, retry_of FROM execution_retries WHERE execution_id = $1 OR retry_of = $1 ORDER BY created_at`,
      [executionId],
    )) as { execution_id: string; retry_of: string }[];
    return {
      retryOf: rows.find((r) => r.execution_id === executionId)?.retry_of ?? null,
      retries: rows.filter((r) => r.retry_of === executionId).map((r) => r.execution_id),
    };
  }

  async getNodeResults(executionId: string): Promise<NodeResultRow[]> {
    const rows = (await this.dataSource.query(
      `SELECT id, node_id, node_type, status, output, error, duration_ms, executed_at, attempt
         FROM node_execution_logs WHERE execution_id = $1 ORDER BY executed_at ASC, attempt ASC, id ASC`,
      [executionId],
    )) as Record<string, unknown>[];
    return rows.map(toNodeResult);
  }

  async queryExecutions(query: ExecutionQuery): Promise<ExecutionRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (query.workflowId !== undefined) where.push(`workflow_id = ${param(query.workflowId)}`);
    // An execution belongs to its workflow's team (workflow_teams, docs/security.md).
    if (query.team !== undefined) where.push(`workflow_id IN (SELECT workflow_id FROM workflow_teams WHERE team = ${param(query.team)})`);
    if (query.status !== undefined) where.push(`status = ${param(query.status)}`);
    if (query.from !== undefined) where.push(`started_at >= ${param(query.from)}`);
    if (query.to !== undefined) where.push(`started_at <= ${param(query.to)}`);
    if (query.afterExecutionId !== undefined) {
      where.push(`(started_at, execution_id) < (SELECT started_at, execution_id FROM execution_logs WHERE execution_id = ${param(query.afterExecutionId)})`);
    }
    const rows = (await this.dataSource.query(
      `SELECT ${EXECUTION_COLUMNS} FROM execution_logs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY started_at DESC, execution_id DESC LIMIT ${param(query.limit)}`,
      params,
    )) as Record<string, unknown>[];
    return rows.map(toExecution);
  }
}

const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : new Date(String(value)).toISOString());

function toExecution(row: Record<string, unknown>): ExecutionRow {
  return {
    executionId: row['execution_id'] as string,
    workflowId: row['workflow_id'] as string,
    workflowVersion: row['workflow_version'] as number,
    status: row['status'] as string,
    startedAt: iso(row['started_at']),
    completedAt: row['completed_at'] ? iso(row['completed_at']) : null,
    durationMs: (row['duration_ms'] as number | null) ?? null,
    triggerPayload: row['trigger_payload'] ?? null,
    output: row['output'] ?? null,
    error: row['error'] ?? null,
    sessionId: (row['session_id'] as string | null) ?? null,
  };
}

function toNodeResult(row: Record<string, unknown>): NodeResultRow {
  return {
    id: row['id'] as string,
    nodeId: row['node_id'] as string,
    nodeType: row['node_type'] as string,
    status: row['status'] as string,
    output: row['output'] ?? null,
    error: row['error'] ?? null,
    durationMs: row['duration_ms'] as number,
    executedAt: iso(row['executed_at']),
    attempt: row['attempt'] as number,
  };
}
