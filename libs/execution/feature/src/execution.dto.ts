import { z } from 'zod';
import { EXECUTION_STATUSES } from '@ussd/execution-domain';
import { UuidParam } from '@ussd/platform-http';

const isoDate = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 date-time, e.g. 2026-01-31T12:00:00Z' }).transform((v) => new Date(v));

/** Execution ids are UUIDs (the api and the USSD hops issue them), so `/executions/123` is a 400 like `/workflows/123`. */
export const ExecutionIdParam = UuidParam;

export const ListExecutionsQuery = z
  .strictObject({
    workflowId: z.uuid({ error: 'must be a UUID' }).optional(),
    status: z.enum(EXECUTION_STATUSES).optional(),
    from: isoDate.optional(),
    to: isoDate.optional(),
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: z.string().max(400).regex(/^[A-Za-z0-9_-]+$/, 'not a cursor from a previous page').optional(),
  })
  .refine((q) => !(q.from && q.to && q.from > q.to), { message: 'from must not be after to', path: ['from'] });
export type ListExecutionsQuery = z.output<typeof ListExecutionsQuery>;

export const ExecutionView = z.object({
  executionId: z.string(),
  workflowId: z.uuid(),
  workflowVersion: z.number(),
  status: z.string(),
  startedAt: z.string(),
  completedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  triggerPayload: z.unknown(),
  output: z.unknown(),
  error: z.unknown(),
  sessionId: z.string().nullable(),
});

export const NodeResultView = z.object({
  id: z.uuid(),
  nodeId: z.string(),
  nodeType: z.string(),
  status: z.string(),
  output: z.unknown(),
  error: z.unknown(),
  durationMs: z.number(),
  executedAt: z.string(),
  attempt: z.number(),
});

export const ExecutionDetail = ExecutionView.extend({ retryOf: z.string().nullable(), retries: z.array(z.string()), nodes: z.array(NodeResultView) });

export const RunExecutionBody = z
  .strictObject({
  /** The trigger payload: any JSON value (the expressions see it as `trigger`). */
  payload: z.unknown().optional(),
  /** sync waits (up to EXECUTION_SYNC_TIMEOUT_MS) for the outcome; async answers 202 at once. */
  mode: z.enum(['sync', 'async']).default('sync'),
  /** A specific published version; the newest published one when omitted. */
  version: z.number().int().min(1).max(1_000_000).optional(),
  })
  // A POST without a body runs the newest published version synchronously with no payload.
  .default({ mode: 'sync' });
export type RunExecutionBody = z.output<typeof RunExecutionBody>;

export const RunOutcome = z.object({
  executionId: z.string(),
  workflowId: z.uuid(),
  workflowVersion: z.number(),
  status: z.enum(['queued', 'running', 'completed', 'failed', 'timeout', 'canceled', 'paused']),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  prompt: z.object({ kind: z.enum(['menu', 'input']), text: z.string() }).optional(),
  retryOf: z.string().optional(),
});
export type RunOutcome = z.infer<typeof RunOutcome>;

export const ExecutionPage = z.object({
  items: z.array(ExecutionView),
  page: z.object({ limit: z.number(), nextCursor: z.string().nullable(), next: z.string().nullable() }),
});
export type ExecutionPage = z.infer<typeof ExecutionPage>;
