import { createHash } from 'node:crypto';
import { currentRequestId } from '@ussd/platform-logging';
import type { Queryable } from './api-keys.js';
import type { Identity } from './identity.js';
import { actorOf } from './identity.js';

/** What is recorded (docs/security.md, "Audit log"). New actions are added here, nowhere else. */
export const AUDIT_ACTIONS = [
  'workflow.create',
  'workflow.version.create',
  'workflow.version.edit',
  'workflow.publish',
  'workflow.rollback',
  'workflow.deactivate',
  'workflow.reactivate',
  'ussd.claim',
  'grant.add',
  'grant.remove',
  'execution.cancel',
  'execution.retry',
  'session.delete',
  'key.create',
  'key.revoke',
  'team.create',
  'secret.set',
  'secret.delete',
  'secret.rotate',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export function isAuditAction(value: unknown): value is AuditAction {
  return typeof value === 'string' && (AUDIT_ACTIONS as readonly string[]).includes(value);
}

/** Who acted: an API key or token (`team/name`), the operator CLI (`cli:<os user>`), or the platform itself. */
export type AuditActorKind = Identity['kind'] | 'cli' | 'system';

/** The actor fields of an audit row for a request's identity; never a header a client sent. */
export function auditActor(identity: Identity): { actor: string; actorKind: AuditActorKind } {
  return { actor: actorOf(identity), actorKind: identity.kind };
}

/**
 * One change. `details` describes it in ids and names only: never a secret value, a key, a token
 * or a phone number (record a session id, a key id, a secret's name).
 */
export interface AuditEntry {
  readonly actor: string;
  readonly actorKind?: AuditActorKind;
  /** The team the changed thing belongs to; null for what belongs to no team. */
  readonly team: string | null;
  readonly action: AuditAction;
  readonly targetType: string;
  readonly targetId: string;
  /** Defaults to the current request's id (x-request-id, or the one generated for it). */
  readonly requestId?: string | null;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface AuditRecord {
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly actorKind: string;
  readonly team: string | null;
  readonly action: string;
  readonly targetType: string;
  readonly targetId: string;
  readonly requestId: string | null;
  readonly details: Record<string, unknown>;
}

export interface AuditFilter {
  readonly team?: string;
  readonly action?: string;
  readonly actor?: string;
  readonly targetType?: string;
  readonly targetId?: string;
  readonly from?: Date;
  readonly to?: Date;
}

/** A cursor that is not one this filter's previous page handed out. */
export class AuditCursorError extends Error {
  override readonly name = 'AuditCursorError';
}

interface AuditRow {
  id: string;
  at: Date;
  actor: string;
  actor_kind: string;
  team: string | null;
  action: string;
  target_type: string;
  target_id: string;
  request_id: string | null;
  details: Record<string, unknown> | null;
}

/** Audit values are short: a longer one is cut, never refused (the change itself already happened). */
function cut(value: string, max: number): string {
  return value.length <= max ? value : value.slice(0, max);
}

/**
 * Writes one audit row with `db`: pass the EntityManager of the change's own transaction so the
 * row is written if and only if the change is (a failed change writes nothing).
 */
export async function recordAudit(db: Queryable, entry: AuditEntry): Promise<void> {
  await db.query(
    `INSERT INTO audit_log (actor, actor_kind, team, action, target_type, target_id, request_id, details)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`,
    [
      cut(entry.actor, 255),
      entry.actorKind ?? 'api-key',
      entry.team,
      entry.action,
      cut(entry.targetType, 64),
      cut(entry.targetId, 255),
      entry.requestId === undefined ? (currentRequestId() ?? null) : entry.requestId === null ? null : cut(entry.requestId, 128),
      JSON.stringify(entry.details ?? {}),
    ],
  );
}

/**
 * The audit log (table `audit_log`): who changed what, for which team, when, in which request.
 * Changes that are database writes record in their own transaction (`recordAudit(manager, …)`);
 * the others (canceling an execution, ending a session, secrets) call `record` right after the
 * change succeeded.
 */
export class AuditLog {
  constructor(private readonly db: Queryable) {}

  /** Records one change; `db` is the change's transaction when there is one. */
  record(entry: AuditEntry, db: Queryable = this.db): Promise<void> {
    return recordAudit(db, entry);
  }

  /**
   * Newest first (by id: the order rows were written), `limit` rows and a cursor for the next
   * page when there are more. The cursor is bound to the filter it was made for.
   */
  async list(filter: AuditFilter, limit: number, cursor?: string): Promise<{ items: AuditRecord[]; nextCursor: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const param = (value: unknown) => {
      params.push(value);
      return `$${params.length}`;
    };
    if (filter.team !== undefined) where.push(`team = ${param(filter.team)}`);
    if (filter.action !== undefined) where.push(`action = ${param(filter.action)}`);
    if (filter.actor !== undefined) where.push(`actor = ${param(filter.actor)}`);
    if (filter.targetType !== undefined) where.push(`target_type = ${param(filter.targetType)}`);
    if (filter.targetId !== undefined) where.push(`target_id = ${param(filter.targetId)}`);
    if (filter.from !== undefined) where.push(`at >= ${param(filter.from)}`);
    if (filter.to !== undefined) where.push(`at < ${param(filter.to)}`);
    if (cursor !== undefined) where.push(`id < ${param(decodeAuditCursor(cursor, filter))}::bigint`);
    const rows = await this.db.query<AuditRow[]>(
      `SELECT id, at, actor, actor_kind, team, action, target_type, target_id, request_id, details
         FROM audit_log ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY id DESC LIMIT ${param(limit + 1)}`,
      params,
    );
    const items = rows.slice(0, limit).map((row) => ({
      id: String(row.id),
      at: new Date(row.at).toISOString(),
      actor: row.actor,
      actorKind: row.actor_kind,
      team: row.team,
      action: row.action,
      targetType: row.target_type,
      targetId: row.target_id,
      requestId: row.request_id,
      details: row.details ?? {},
    }));
    const last = items.at(-1);
    return { items, nextCursor: rows.length > limit && last !== undefined ? encodeAuditCursor(last.id, filter) : null };
  }
}

function filterDigest(id: string, filter: AuditFilter): string {
  const canonical = JSON.stringify([id, filter.team, filter.action, filter.actor, filter.targetType, filter.targetId, filter.from?.toISOString(), filter.to?.toISOString()]);
  return createHash('sha256').update(canonical).digest('base64url').slice(0, 16);
}

/** `<id>.<digest of id and filter>`, base64url: opaque, and refused when changed or used with another filter. */
export function encodeAuditCursor(id: string, filter: AuditFilter): string {
  return Buffer.from(`${id}.${filterDigest(id, filter)}`, 'utf8').toString('base64url');
}

export function decodeAuditCursor(cursor: string, filter: AuditFilter): string {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const match = /^([1-9][0-9]{0,18})\.([A-Za-z0-9_-]{16})$/.exec(text);
  if (match === null || match[1] === undefined || match[2] !== filterDigest(match[1], filter)) {
    throw new AuditCursorError('not a cursor from a previous page of this query');
  }
  return match[1];
}
