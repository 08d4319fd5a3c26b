import { Injectable } from '@nestjs/common';
import { ExecutionLogRepository } from '@ussd/execution-data-access';
import { ValidationProblem } from '@ussd/platform-http';
import type { ExecutionPage, ListExecutionsQuery } from './execution.dto.js';
import { ExecutionNotFoundException } from './execution.exception.js';

/** Reads of execution logs: one execution with its node attempts, and filtered pages. */
@Injectable()
export class ExecutionQueriesService {
  constructor(private readonly logs: ExecutionLogRepository) {}

  async get(executionId: string) {
    const [execution, nodes, links] = await Promise.all([this.logs.getExecution(executionId), this.logs.getNodeResults(executionId), this.logs.retryLinks(executionId)]);
    if (!execution) throw new ExecutionNotFoundException(executionId);
    return { ...execution, ...links, nodes };
  }

  /** `team`: only that team's executions (undefined: every team's). */
  async list(query: ListExecutionsQuery, path: string, team: string | undefined): Promise<ExecutionPage> {
    const rows = await this.logs.queryExecutions({
      ...(team !== undefined ? { team } : {}),
      ...(query.workflowId !== undefined ? { workflowId: query.workflowId } : {}),
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(query.from !== undefined ? { from: query.from } : {}),
      ...(query.to !== undefined ? { to: query.to } : {}),
      ...(query.cursor !== undefined ? { afterExecutionId: decodeCursor(query.cursor) } : {}),
      limit: query.limit + 1,
    });
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    const nextCursor = rows.length > query.limit && last ? Buffer.from(last.executionId, 'utf8').toString('base64url') : null;
    const params = new URLSearchParams();
    params.set('limit', String(query.limit));
    if (query.workflowId !== undefined && !path.includes(query.workflowId)) params.set('workflowId', query.workflowId);
    if (query.status !== undefined) params.set('status', query.status);
    if (query.from !== undefined) params.set('from', query.from.toISOString());
    if (query.to !== undefined) params.set('to', query.to.toISOString());
    if (nextCursor) params.set('cursor', nextCursor);
    return { items, page: { limit: query.limit, nextCursor, next: nextCursor ? `${path}?${params.toString()}` : null } };
  }
}

function decodeCursor(cursor: string): string {
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[\w.:-]{1,255}$/.test(id)) throw new ValidationProblem([{ in: 'query', pointer: '/cursor', code: 'invalid-cursor', message: 'not a cursor from a previous page' }], 'The request query is not valid.');
  return id;
}
