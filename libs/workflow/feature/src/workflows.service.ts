import { type AuditAction, actorOf, auditActor, type Identity, listedTeam, sees } from '@ussd/platform-auth';
import { Injectable, Optional } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { InjectConfig, type PlatformConfig } from '@ussd/platform-config';
import { ValidationProblem } from '@ussd/platform-http';
import { type ListCursor, ServiceCodeNotGrantedError, UssdClaimConflictError, VersionTakenError, type WorkflowAudit, type WorkflowEntity, WorkflowRepository } from '@ussd/workflow-data-access';
import { TeamSecrets } from '@ussd/platform-secrets';
import { diffSpecs, secretReferences, type SpecError, validateWorkflowSpec, workflowSpecJsonSchema } from '@ussd/workflow-domain';
import { ifMatchSatisfied, versionEtag } from './etag.js';
import type { AddVersionBody, CreateWorkflowBody, ListWorkflowsQuery, UpdateDraftBody, WorkflowDiff, WorkflowPage, WorkflowVersionView } from './workflow.dto.js';
import {
  InvalidWorkflowSpecException,
  PreconditionFailedException,
  PreconditionRequiredException,
  PublishedVersionImmutableException,
  ServiceCodeNotGrantedException,
  UssdClaimConflictException,
  WorkflowNotFoundException,
  WorkflowSpecTooLargeException,
  WorkflowVersionConflictException,
  WorkflowVersionNotFoundException,
} from './workflow.exception.js';

/** A version as the API shows it, with the ETag that goes into the response header. */
export interface VersionResult {
  readonly view: WorkflowVersionView;
  readonly etag: string;
}

/**
 * The registry's use cases: versions are append-only, a published version is immutable,
 * roll-back publishes an old spec as a new version, nothing is ever deleted.
 */
@Injectable()
export class WorkflowsService {
  constructor(
    private readonly workflows: WorkflowRepository,
    @InjectConfig() private readonly config: PlatformConfig,
    /** Absent when the app has no SecretsModule: secret references are then not checked here (runs fail with secrets.unavailable). */
    @Optional() private readonly secrets?: TeamSecrets,
  ) {}

  jsonSchema(): object {
    return workflowSpecJsonSchema();
  }

  /** The validator's checks, and (for the caller's team) that every `secrets.NAME` it names exists. */
  async validate(spec: unknown, caller: Identity): Promise<{ valid: boolean; errors: SpecError[] }> {
    this.assertSize(spec);
    const result = validateWorkflowSpec(spec);
    const errors = [...(result.valid ? [] : result.errors), ...(await this.secretProblems(spec, caller.team))];
    return { valid: errors.length === 0, errors };
  }

  async create(body: CreateWorkflowBody, caller: Identity): Promise<VersionResult> {
    this.assertSize(body.spec);
    const entity = await this.workflows.insertNextVersion({
      workflowId: randomUUID(),
      team: caller.team,
      name: body.name,
      description: body.description ?? null,
      spec: body.spec,
      createdBy: actorOf(caller),
      tags: body.tags ?? null,
      environment: body.environment ?? null,
    }, undefined, audit(caller, 'workflow.create'));
    return this.checked(this.result(entity, { withSpec: true, validate: true }), entity.spec, caller.team);
  }

  async addVersion(workflowId: string, body: AddVersionBody, caller: Identity, ifMatch: string | undefined): Promise<VersionResult> {
    this.assertSize(body.spec);
    const latest = await this.requireLatest(workflowId, caller);
    if (!ifMatchSatisfied(ifMatch, versionEtag(latest))) {
      throw new PreconditionFailedException(`Version ${latest.version} is no longer the newest version of workflow ${workflowId}, or has changed.`);
    }
    try {
      const entity = await this.workflows.insertNextVersion(
        {
          workflowId,
          name: body.name ?? latest.name,
          description: body.description !== undefined ? body.description : latest.description,
          spec: body.spec,
          createdBy: actorOf(caller),
          tags: body.tags ?? latest.tags,
          environment: body.environment !== undefined ? body.environment : latest.environment,
        },
        latest.version,
        audit(caller, 'workflow.version.create'),
      );
      return await this.checked(this.result(entity, { withSpec: true, validate: true }), entity.spec, await this.workflows.ownerOf(workflowId));
    } catch (error) {
      if (error instanceof VersionTakenError) {
        throw new WorkflowVersionConflictException(workflowId, `Version ${latest.version + 1} was added by someone else meanwhile; read the newest version and try again.`);
      }
      throw error;
    }
  }

  async getVersion(workflowId: string, version: number, caller: Identity): Promise<VersionResult> {
    return this.result(await this.requireVersion(workflowId, version, caller), { withSpec: true });
  }

  async getLatest(workflowId: string, caller: Identity): Promise<VersionResult> {
    return this.result(await this.requireLatest(workflowId, caller), { withSpec: true });
  }

  async getLatestPublished(workflowId: string, caller: Identity): Promise<VersionResult> {
    await this.requireVisible(workflowId, caller);
    const entity = await this.workflows.findLatestPublished(workflowId);
    if (!entity) {
      await this.requireLatest(workflowId, caller);
      throw new WorkflowVersionNotFoundException(workflowId, 'published');
    }
    return this.result(entity, { withSpec: true });
  }

  async listVersions(workflowId: string, caller: Identity): Promise<WorkflowVersionView[]> {
    await this.requireVisible(workflowId, caller);
    const versions = await this.workflows.listVersions(workflowId);
    if (versions.length === 0) throw new WorkflowNotFoundException(workflowId);
    return versions.map((entity) => this.view(entity, { withSpec: false }));
  }

  async updateDraft(workflowId: string, version: number, body: UpdateDraftBody, ifMatch: string | undefined, caller: Identity): Promise<VersionResult> {
    const current = await this.requireVersion(workflowId, version, caller);
    if (ifMatch === undefined) throw new PreconditionRequiredException('Editing a draft needs If-Match with the ETag of the version you read.');
    if (body.spec !== undefined) this.assertSize(body.spec);
    if (current.publishedAt !== null) throw new PublishedVersionImmutableException(workflowId, version);
    if (!ifMatchSatisfied(ifMatch, versionEtag(current))) throw new PreconditionFailedException(`Version ${version} changed since you read it.`);
    const updated = await this.workflows.updateDraft(workflowId, version, body, audit(caller, 'workflow.version.edit'));
    if (!updated) throw new PublishedVersionImmutableException(workflowId, version); // published meanwhile
    return this.checked(this.result(updated, { withSpec: true, validate: true }), updated.spec, await this.workflows.ownerOf(workflowId));
  }

  async publish(workflowId: string, version: number, ifMatch: string | undefined, caller: Identity): Promise<VersionResult> {
    const current = await this.requireVersion(workflowId, version, caller);
    if (!ifMatchSatisfied(ifMatch, versionEtag(current))) throw new PreconditionFailedException(`Version ${version} changed since you read it.`);
    if (current.publishedAt !== null) return this.result(current, { withSpec: true });
    await this.assertValid(current.spec, workflowId);
    const published = (await claiming(workflowId, current.spec, () => this.workflows.publish(workflowId, version, audit(caller, 'workflow.publish')))) ?? (await this.requireVersion(workflowId, version, caller));
    return this.result(published, { withSpec: true });
  }

  /** Publishes an older version's spec as a new version; history is never rewritten. */
  async rollback(workflowId: string, toVersion: number, caller: Identity): Promise<VersionResult> {
    const target = await this.requireVersion(workflowId, toVersion, caller);
    const latest = await this.requireLatest(workflowId, caller);
    await this.assertValid(target.spec, workflowId);
    try {
      const entity = await claiming(workflowId, target.spec, () => this.workflows.insertNextVersion(
        {
          workflowId,
          name: target.name,
          description: target.description,
          spec: target.spec,
          createdBy: actorOf(caller),
          tags: target.tags,
          environment: target.environment,
          publish: true,
        },
        latest.version,
        audit(caller, 'workflow.rollback', { fromVersion: toVersion }),
      ));
      return this.result(entity, { withSpec: true });
    } catch (error) {
      if (error instanceof VersionTakenError) throw new WorkflowVersionConflictException(workflowId, 'A version was added meanwhile; try the roll-back again.');
      throw error;
    }
  }

  async diff(workflowId: string, from: number, to: number, caller: Identity): Promise<WorkflowDiff> {
    const [a, b] = await Promise.all([this.requireVersion(workflowId, from, caller), this.requireVersion(workflowId, to, caller)]);
    const comparable = (e: WorkflowEntity) => ({ name: e.name, description: e.description, tags: e.tags ?? [], environment: e.environment, spec: e.spec });
    return { workflowId, from, to, changes: diffSpecs(comparable(a), comparable(b)) };
  }

  async setActive(workflowId: string, active: boolean, caller: Identity): Promise<{ workflowId: string; isActive: boolean; versions: number }> {
    await this.requireVisible(workflowId, caller);
    const published = active ? await this.workflows.findLatestPublished(workflowId) : null;
    const versions = await claiming(workflowId, published?.spec, () => this.workflows.setActive(workflowId, active, audit(caller, active ? 'workflow.reactivate' : 'workflow.deactivate')));
    if (versions === 0) throw new WorkflowNotFoundException(workflowId);
    return { workflowId, isActive: active, versions };
  }

  async list(query: ListWorkflowsQuery, path: string, caller: Identity): Promise<WorkflowPage> {
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const team = listedTeam(caller);
    const filter = {
      ...(team !== undefined ? { team } : {}),
      ...(query.tags && query.tags.length > 0 ? { tags: query.tags, tagMode: query.tagMode } : {}),
      ...(query.environment !== undefined ? { environment: query.environment } : {}),
      ...(query.createdBy !== undefined ? { createdBy: query.createdBy } : {}),
      ...(query.q !== undefined ? { nameContains: query.q } : {}),
    };
    // One extra row tells whether a next page exists without a COUNT.
    const rows = await this.workflows.listActive(filter, query.limit + 1, after ? { after } : { offset: query.offset ?? 0 });
    const items = rows.slice(0, query.limit);
    const last = items.at(-1);
    const nextCursor = rows.length > query.limit && last ? encodeCursor({ id: last.id }) : null;
    const params = new URLSearchParams();
    params.set('limit', String(query.limit));
    if (query.tags?.length) params.set('tags', query.tags.join(','));
    if (query.tags?.length) params.set('tagMode', query.tagMode);
    if (query.environment !== undefined) params.set('environment', query.environment);
    if (query.createdBy !== undefined) params.set('createdBy', query.createdBy);
    if (query.q !== undefined) params.set('q', query.q);
    if (nextCursor) params.set('cursor', nextCursor);
    return {
      items: items.map((entity) => this.view(entity, { withSpec: false })),
      page: { limit: query.limit, offset: after ? null : (query.offset ?? 0), nextCursor, next: nextCursor ? `${path}?${params.toString()}` : null },
    };
  }

  /** Another team's workflow answers exactly as a missing one does (404): no existence oracle. */
  private async requireVisible(workflowId: string, caller: Identity): Promise<void> {
    if (caller.role === 'admin') return; // no lookup: an admin sees every team's
    if (!sees(caller, await this.workflows.ownerOf(workflowId))) throw new WorkflowNotFoundException(workflowId);
  }

  private async requireLatest(workflowId: string, caller: Identity): Promise<WorkflowEntity> {
    await this.requireVisible(workflowId, caller);
    const latest = await this.workflows.findLatest(workflowId);
    if (!latest) throw new WorkflowNotFoundException(workflowId);
    return latest;
  }

  private async requireVersion(workflowId: string, version: number, caller: Identity): Promise<WorkflowEntity> {
    await this.requireVisible(workflowId, caller);
    const entity = await this.workflows.findVersion(workflowId, version);
    if (entity) return entity;
    await this.requireLatest(workflowId, caller); // 404 for the workflow when it does not exist at all
    throw new WorkflowVersionNotFoundException(workflowId, version);
  }

  private assertSize(spec: unknown): void {
    const bytes = Buffer.byteLength(JSON.stringify(spec) ?? '', 'utf8');
    if (bytes > this.config.workflow.specMaxBytes) throw new WorkflowSpecTooLargeException(bytes, this.config.workflow.specMaxBytes);
  }

  /**
   * Publish and roll back refuse an invalid spec with the validator's own errors, as
   * `POST /workflows/validate` and the `validation` of create, add and edit report them:
   * `{ pointer, code, message }`, pointers into the spec document (not `/spec/...`).
   */
  private async assertValid(spec: unknown, workflowId: string): Promise<void> {
    const result = validateWorkflowSpec(spec);
    const errors = [...(result.valid ? [] : result.errors), ...(await this.secretProblems(spec, await this.workflows.ownerOf(workflowId)))];
    if (errors.length === 0) return;
    throw new InvalidWorkflowSpecException(errors, `The spec has ${errors.length} problem(s); the pointers are into the spec. Fix them in a new version.`);
  }

  /**
   * `secrets.NAME` references to secrets the team does not have: errors (`secrets.unknown`), so
   * a version that would fail at its first run is not published. Names only: no value is read.
   */
  private async secretProblems(spec: unknown, team: string | undefined): Promise<SpecError[]> {
    if (this.secrets === undefined || team === undefined) return [];
    const references = secretReferences(spec);
    if (references.length === 0) return [];
    const names = await this.secrets.names(team);
    return references
      .filter((reference) => !names.has(reference.name))
      .slice(0, 100)
      .map((reference) => ({ pointer: reference.pointer, code: 'secrets.unknown', message: `team ${team} has no secret ${reference.name}: set it with PUT /secrets/${reference.name}, or correct the name` }));
  }

  /** A draft's `validation` with the secret check added. */
  private async checked(result: VersionResult, spec: unknown, team: string | undefined): Promise<VersionResult> {
    const validation = result.view.validation;
    if (validation === undefined) return result;
    const problems = await this.secretProblems(spec, team);
    if (problems.length === 0) return result;
    const errors = [...validation.errors, ...problems];
    return { ...result, view: { ...result.view, validation: { valid: false, errors } } };
  }

  private result(entity: WorkflowEntity, options: { withSpec: boolean; validate?: boolean }): VersionResult {
    return { view: this.view(entity, options), etag: versionEtag(entity) };
  }

  private view(entity: WorkflowEntity, options: { withSpec: boolean; validate?: boolean }): WorkflowVersionView {
    const validation = options.validate ? validateWorkflowSpec(entity.spec) : undefined;
    return {
      id: entity.id,
      workflowId: entity.workflowId,
      version: entity.version,
      status: entity.publishedAt === null ? 'draft' : 'published',
      name: entity.name,
      description: entity.description,
      tags: entity.tags ?? [],
      environment: entity.environment,
      isActive: entity.isActive,
      createdBy: entity.createdBy,
      createdAt: entity.createdAt.toISOString(),
      publishedAt: entity.publishedAt?.toISOString() ?? null,
      ...(options.withSpec ? { spec: entity.spec as Record<string, unknown> } : {}),
      ...(validation ? { validation: { valid: validation.valid, errors: validation.valid ? [] : validation.errors } } : {}),
    };
  }
}

function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(cursor.id, 'utf8').toString('base64url');
}

function decodeCursor(text: string): ListCursor {
  const id = Buffer.from(text, 'base64url').toString('utf8');
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) {
    throw new ValidationProblem([{ in: 'query', pointer: '/cursor', code: 'invalid-cursor', message: 'not a cursor from a previous page' }], 'The request query is not valid.');
  }
  return { id };
}

function audit(caller: Identity, action: AuditAction, details?: Record<string, unknown>): WorkflowAudit {
  return { ...auditActor(caller), action, ...(details ? { details } : {}) };
}

/** Turns the repository's claim conflict and grant refusal into their 409 problems; `spec` gives the refusal pointers. */
async function claiming<T>(workflowId: string, spec: unknown, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UssdClaimConflictError) throw new UssdClaimConflictException(workflowId, error.conflicts);
    if (error instanceof ServiceCodeNotGrantedError) throw new ServiceCodeNotGrantedException(workflowId, error.team, error.serviceCodes, ungrantedTriggers(spec, error.serviceCodes));
    throw error;
  }
}

/** `{ pointer, code, message }` for each USSD trigger whose service code is not granted, pointing into the spec. */
function ungrantedTriggers(spec: unknown, codes: readonly string[]): { pointer: string; code: string; message: string }[] {
  const triggers = (spec as { triggers?: unknown } | null)?.triggers;
  const list = Array.isArray(triggers) ? (triggers as unknown[]) : [];
  const errors = list.flatMap((trigger, index) => {
    const code = (trigger as { type?: unknown; serviceCode?: unknown } | null)?.serviceCode;
    return (trigger as { type?: unknown } | null)?.type === 'ussd' && typeof code === 'string' && codes.includes(code)
      ? [{ pointer: `/triggers/${index}/serviceCode`, code: 'service-code-not-granted', message: `${code} is not granted to the workflow's team` }]
      : [];
  });
  return errors.length > 0 ? errors : codes.map((code) => ({ pointer: '/triggers', code: 'service-code-not-granted', message: `${code} is not granted to the workflow's team` }));
}
