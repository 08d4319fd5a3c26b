import { Controller, Get, Inject, Query } from '@nestjs/common';
import { ApiOperation, ApiQuery, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AUDIT_ACTIONS, AuditCursorError, type AuditFilter, AuditLog, RequireRole, TEAM_NAME } from '@ussd/platform-auth';
import { openApiSchema, ValidationProblem, ZodValidationPipe } from '@ussd/platform-http';

/** The most rows one page returns. */
export const AUDIT_PAGE_MAX = 200;

const printable = (max: number) => z.string().min(1).max(max).regex(/^[\x20-\x7e]+$/, 'printable ASCII');
const instant = z.iso.datetime({ offset: true, error: 'an ISO 8601 time with a zone, like 2026-11-30T04:00:00Z' }).transform((text) => new Date(text));

export const AuditQuery = z
  .strictObject({
    team: z.string().regex(TEAM_NAME, 'a team name').optional(),
    action: z.enum(AUDIT_ACTIONS).optional(),
    actor: printable(255).optional(),
    targetType: z.string().regex(/^[a-z][a-z-]{0,63}$/, 'a target type like workflow or service-code-grant').optional(),
    targetId: printable(255).optional(),
    from: instant.optional(),
    to: instant.optional(),
    limit: z.coerce.number().int().min(1).max(AUDIT_PAGE_MAX, `at most ${AUDIT_PAGE_MAX}`).default(50),
    cursor: z.string().max(200).regex(/^[A-Za-z0-9_-]+$/, 'not a cursor from a previous page').optional(),
  })
  .refine((query) => query.from === undefined || query.to === undefined || query.from < query.to, { message: 'from must be before to', path: ['to'] });
type AuditQuery = z.output<typeof AuditQuery>;

const AuditRecordView = z.object({
  id: z.string(),
  at: z.string(),
  actor: z.string(),
  actorKind: z.string(),
  team: z.string().nullable(),
  action: z.string(),
  targetType: z.string(),
  targetId: z.string(),
  requestId: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
const AuditPage = z.object({
  items: z.array(AuditRecordView),
  page: z.object({ limit: z.number().int(), nextCursor: z.string().nullable(), next: z.string().nullable() }),
});

/** `GET /audit`: who changed what (docs/security.md, "Audit log"). Admins only. */
@ApiTags('audit')
@Controller('audit')
export class AuditController {
  constructor(@Inject(AuditLog) private readonly audit: AuditLog) {}

  @Get()
  @RequireRole('admin')
  @ApiOperation({ summary: 'The audit log, newest first, in keyset pages (page.nextCursor); filters combine with AND' })
  @ApiQuery({ name: 'team', required: false })
  @ApiQuery({ name: 'action', required: false, enum: [...AUDIT_ACTIONS] })
  @ApiQuery({ name: 'actor', required: false, description: 'as recorded: team/key-name, or cli:<os user>' })
  @ApiQuery({ name: 'targetType', required: false, description: 'workflow, service-code, service-code-grant, execution, session, api-key, team, secret' })
  @ApiQuery({ name: 'targetId', required: false })
  @ApiQuery({ name: 'from', required: false, description: 'ISO 8601, inclusive' })
  @ApiQuery({ name: 'to', required: false, description: 'ISO 8601, exclusive' })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: AUDIT_PAGE_MAX, default: 50 } })
  @ApiQuery({ name: 'cursor', required: false, description: 'page.nextCursor of the previous page, with the same filters' })
  @ApiResponse({ status: 200, schema: openApiSchema(AuditPage) })
  @ApiResponse({ status: 400, description: 'a malformed filter, limit or cursor (application/problem+json)' })
  async list(@Query(new ZodValidationPipe(AuditQuery)) query: AuditQuery) {
    const filter: AuditFilter = {
      ...(query.team !== undefined ? { team: query.team } : {}),
      ...(query.action !== undefined ? { action: query.action } : {}),
      ...(query.actor !== undefined ? { actor: query.actor } : {}),
      ...(query.targetType !== undefined ? { targetType: query.targetType } : {}),
      ...(query.targetId !== undefined ? { targetId: query.targetId } : {}),
      ...(query.from !== undefined ? { from: query.from } : {}),
      ...(query.to !== undefined ? { to: query.to } : {}),
    };
    let page: Awaited<ReturnType<AuditLog['list']>>;
    try {
      page = await this.audit.list(filter, query.limit, query.cursor);
    } catch (error) {
      if (error instanceof AuditCursorError) {
        throw new ValidationProblem([{ in: 'query', pointer: '/cursor', code: 'invalid-cursor', message: error.message }], 'The request query is not valid.');
      }
      throw error;
    }
    const params = new URLSearchParams();
    for (const key of ['team', 'action', 'actor', 'targetType', 'targetId'] as const) {
      const value = query[key];
      if (value !== undefined) params.set(key, value);
    }
    if (query.from !== undefined) params.set('from', query.from.toISOString());
    if (query.to !== undefined) params.set('to', query.to.toISOString());
    params.set('limit', String(query.limit));
    if (page.nextCursor !== null) params.set('cursor', page.nextCursor);
    return { items: page.items, page: { limit: query.limit, nextCursor: page.nextCursor, next: page.nextCursor === null ? null : `/audit?${params.toString()}` } };
  }
}
