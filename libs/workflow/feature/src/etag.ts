import { createHash } from 'node:crypto';
import type { WorkflowEntity } from '@ussd/workflow-data-access';

/** A strong ETag over everything a client can see of one version. */
export function versionEtag(entity: WorkflowEntity): string {
  const content = JSON.stringify([
    entity.id,
    entity.version,
    entity.name,
    entity.description,
    entity.tags,
    entity.environment,
    entity.isActive,
    entity.publishedAt?.toISOString() ?? null,
    entity.spec,
  ]);
  return `"${createHash('sha256').update(content).digest('base64url').slice(0, 22)}"`;
}

/** RFC 9110 If-Match: `*`, or a list of entity tags (weak ones never match). */
export function ifMatchSatisfied(header: string | undefined, etag: string): boolean {
  if (header === undefined) return true;
  const trimmed = header.trim();
  if (trimmed === '*') return true;
  return trimmed
    .split(',')
    .map((t) => t.trim())
    .some((t) => t === etag);
}
