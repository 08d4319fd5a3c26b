import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { type DataSource, type EntityManager, QueryFailedError } from 'typeorm';
import { type AuditAction, type AuditActorKind, recordAudit, uncoveredCodes } from '@ussd/platform-auth';
import { ussdClaims, type UssdClaim, type WorkflowSpec } from '@ussd/workflow-domain';
import { WorkflowEntity } from './workflow.entity.js';

/** Thrown when (workflow_id, version) already exists: someone else added that version first. */
export class VersionTakenError extends Error {
  constructor(
    readonly workflowId: string,
    readonly version: number,
  ) {
    super(`version ${version} of workflow ${workflowId} already exists`);
    this.name = 'VersionTakenError';
  }
}

/** Publishing (or reactivating) would give a USSD code + environment a second workflow. */
export class UssdClaimConflictError extends Error {
  constructor(
    readonly workflowId: string,
    readonly conflicts: readonly (UssdClaim & { readonly heldBy: string })[],
  ) {
    super(
      `workflow ${workflowId} claims ${conflicts.map((c) => `${c.serviceCode} in ${c.environment} (held by workflow ${c.heldBy})`).join(', ')}`,
    );
    this.name = 'UssdClaimConflictError';
  }
}

/** Publishing (or rolling back, or reactivating) would claim service codes no grant of the workflow's team covers. */
export class ServiceCodeNotGrantedError extends Error {
  constructor(
    readonly workflowId: string,
    readonly team: string,
    readonly serviceCodes: readonly string[],
  ) {
    super(`workflow ${workflowId} (team ${team}) claims ${serviceCodes.join(', ')}, which no grant of its team covers`);
    this.name = 'ServiceCodeNotGrantedError';
  }
}

/**
 * Who makes a change and how the audit log names it: the repository writes the row in the
 * change's own transaction (team, target and version filled in here), so a change that fails
 * leaves no row and a row never describes a change that did not happen.
 */
export interface WorkflowAudit {
  readonly actor: string;
  readonly actorKind: AuditActorKind;
  readonly action: AuditAction;
  readonly details?: Readonly<Record<string, unknown>>;
}

export interface NewWorkflowVersion {
  readonly workflowId: string;
  readonly name: string;
  readonly description: string | null;
  readonly spec: unknown;
  readonly createdBy: string;
  readonly tags: readonly string[] | null;
  readonly environment: string | null;
  /** Publish in the same statement (used by roll-back). */
  readonly publish?: boolean;
  /** The owning team, recorded with version 1 (later versions keep the first version's team). */
  readonly team?: string;
}

export interface WorkflowListFilter {
  readonly tags?: readonly string[];
  /** any: at least one of `tags`; all: every one of them. */
  readonly tagMode?: 'any' | 'all';
  readonly environment?: string;
  readonly createdBy?: string;
  /** Case-insensitive substring of the name. */
  readonly nameContains?: string;
  /** Only this team's workflows (unset: every team's). */
  readonly team?: string;
}

/**
 * Keyset position: the row id of the last item of the previous page. The row's own
 * created_at (microseconds, which a JavaScript Date would truncate) is looked up in SQL.
 */
export interface ListCursor {
  readonly id: string;
}

export type WorkflowDraftChanges = Partial<Pick<WorkflowEntity, 'name' | 'description' | 'spec' | 'tags' | 'environment'>>;

const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown): boolean {
  return error instanceof QueryFailedError && (error.driverError as { code?: string } | undefined)?.code === UNIQUE_VIOLATION;
}

/** Escapes LIKE wildcards so a search for "50%" means those three characters. */
function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The seed's access patterns for workflows (docs/database.md, "Workflow CRUD"), with
 * parameterised SQL only. Lists return each workflow's newest version, never N+1 queries.
 */
@Injectable()
export class WorkflowRepository {
  private readonly listeners = new Set<(workflowId: string) => void>();

  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Told after this process publishes, rolls back or (de)activates a workflow, so caches of
   * "the newest published version" in this process drop it at once (other replicas rely on
   * their cache's short lifetime).
   */
  onChange(listener: (workflowId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(workflowId: string): void {
    for (const listener of this.listeners) listener(workflowId);
  }

  private get rows() {
    return this.dataSource.getRepository(WorkflowEntity);
  }

  /**
   * Adds version max+1 (1 for a new workflow) in one statement. Two writers racing for the
   * same number: the unique (workflow_id, version) constraint lets one win and the other
   * gets VersionTakenError. With `expectedVersion` the insert only happens if the newest
   * version is still that one (optimistic concurrency for If-Match).
   */
  async insertNextVersion(input: NewWorkflowVersion, expectedLatest?: number, audit?: WorkflowAudit): Promise<WorkflowEntity> {
    const params = [
      input.workflowId,
      input.name,
      input.description,
      JSON.stringify(input.spec),
      input.createdBy,
      input.tags === null ? null : [...input.tags],
      input.environment,
      input.publish === true,
      expectedLatest ?? null,
    ];
    try {
      const row = await this.dataSource.transaction(async (manager) => {
        const inserted = (await manager.query(
          `INSERT INTO workflows (workflow_id, version, name, description, spec, created_by, tags, environment, published_at, is_active)
           SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4::jsonb, $5, $6::text[], $7,
                  CASE WHEN $8::boolean THEN NOW() END,
                  COALESCE(BOOL_OR(is_active), true)
             FROM workflows WHERE workflow_id = $1
           HAVING $9::int IS NULL OR COALESCE(MAX(version), 0) = $9::int
           RETURNING *`,
          params,
        )) as Record<string, unknown>[];
        const first = inserted[0];
        if (first && first['version'] === 1) {
          await manager.query(`INSERT INTO workflow_teams (workflow_id, team) VALUES ($1, $2) ON CONFLICT (workflow_id) DO NOTHING`, [input.workflowId, input.team ?? 'default']);
        }
        if (first && input.publish === true && first['is_active'] === true) await this.claim(manager, input.workflowId, first['spec'], audit);
        if (first && audit) await this.audit(manager, input.workflowId, audit, { version: first['version'] });
        return first;
      });
      if (!row) throw new VersionTakenError(input.workflowId, (expectedLatest ?? 0) + 1);
      if (input.publish === true) this.changed(input.workflowId);
      return this.toEntity(row);
    } catch (error) {
      if (isUniqueViolation(error)) throw new VersionTakenError(input.workflowId, (expectedLatest ?? 0) + 1);
      throw error;
    }
  }

  /** The team that owns a workflow; undefined for an unknown workflow. */
  async ownerOf(workflowId: string): Promise<string | undefined> {
    const rows = (await this.dataSource.query(`SELECT team FROM workflow_teams WHERE workflow_id = $1`, [workflowId])) as { team: string }[];
    return rows[0]?.team;
  }

  /** The seed's Read: `WHERE workflow_id = $1 AND version = $2`. */
  findVersion(workflowId: string, version: number): Promise<WorkflowEntity | null> {
    return this.rows.findOneBy({ workflowId, version });
  }

  findLatest(workflowId: string): Promise<WorkflowEntity | null> {
    return this.rows.findOne({ where: { workflowId }, order: { version: 'DESC' } });
  }

  async findLatestPublished(workflowId: string): Promise<WorkflowEntity | null> {
    return this.rows
      .createQueryBuilder('w')
      .where('w.workflow_id = :workflowId', { workflowId })
      .andWhere('w.published_at IS NOT NULL')
      .orderBy('w.version', 'DESC')
      .limit(1)
      .getOne();
  }

  /** Every version, newest first, without the specs (they can be large). */
  listVersions(workflowId: string): Promise<WorkflowEntity[]> {
    return this.rows
      .createQueryBuilder('w')
      .select(['w.id', 'w.workflowId', 'w.version', 'w.name', 'w.description', 'w.createdBy', 'w.createdAt', 'w.publishedAt', 'w.tags', 'w.environment', 'w.isActive'])
      .where('w.workflow_id = :workflowId', { workflowId })
      .orderBy('w.version', 'DESC')
      .getMany();
  }

  /** Edits a draft. Returns null when the version is missing or already published (immutable). */
  async updateDraft(workflowId: string, version: number, changes: WorkflowDraftChanges, audit?: WorkflowAudit): Promise<WorkflowEntity | null> {
    const params: unknown[] = [workflowId, version];
    const set: string[] = [];
    const assign = (column: string, value: unknown, cast = '') => {
      params.push(value);
      set.push(`${column} = $${params.length}${cast}`);
    };
    if (changes.name !== undefined) assign('name', changes.name);
    if (changes.description !== undefined) assign('description', changes.description);
    if (changes.spec !== undefined) assign('spec', JSON.stringify(changes.spec), '::jsonb');
    if (changes.tags !== undefined) assign('tags', changes.tags, '::text[]');
    if (changes.environment !== undefined) assign('environment', changes.environment);
    if (set.length === 0) {
      const current = await this.findVersion(workflowId, version);
      return current?.publishedAt === null ? current : null;
    }
    const row = await this.dataSource.transaction(async (manager) => {
      const rows = await this.mutate(
        `UPDATE workflows SET ${set.join(', ')} WHERE workflow_id = $1 AND version = $2 AND published_at IS NULL RETURNING *`,
        params,
        manager,
      );
      if (rows[0] && audit) await this.audit(manager, workflowId, audit, { version, fields: Object.keys(changes).filter((k) => changes[k as keyof WorkflowDraftChanges] !== undefined) });
      return rows[0];
    });
    return row ? this.toEntity(row) : null;
  }

  /** Sets published_at once; a published version is never published (or changed) again. */
  /**
   * Sets published_at once; a published version is never published (or changed) again.
   * The version's USSD claims replace the workflow's in the same transaction.
   * @throws UssdClaimConflictError when another active workflow holds one of its claims.
   */
  async publish(workflowId: string, version: number, audit?: WorkflowAudit): Promise<WorkflowEntity | null> {
    const row = await this.dataSource.transaction(async (manager) => {
      const rows = await this.mutate(
        `UPDATE workflows SET published_at = NOW() WHERE workflow_id = $1 AND version = $2 AND published_at IS NULL RETURNING *`,
        [workflowId, version],
        manager,
      );
      const first = rows[0];
      // Publishing an older version than the newest published one changes nothing that runs.
      if (first && first['is_active'] === true && (await this.isNewestPublished(manager, workflowId, version))) await this.claim(manager, workflowId, first['spec'], audit);
      if (first && audit) await this.audit(manager, workflowId, audit, { version });
      return first;
    });
    if (row) this.changed(workflowId);
    return row ? this.toEntity(row) : null;
  }

  /**
   * Activates or deactivates every version of a workflow; returns how many rows it has.
   * Deactivating gives up its USSD claims; reactivating takes them back (or fails with
   * UssdClaimConflictError, leaving it inactive, when another workflow took them meanwhile).
   */
  async setActive(workflowId: string, active: boolean, audit?: WorkflowAudit): Promise<number> {
    const affected = await this.dataSource.transaction(async (manager) => {
      const rows = await this.mutate(`UPDATE workflows SET is_active = $2 WHERE workflow_id = $1 RETURNING version, published_at, spec`, [workflowId, active], manager);
      if (!active) {
        await manager.query(`DELETE FROM ussd_claims WHERE workflow_id = $1`, [workflowId]);
      } else {
        const published = rows.filter((r) => r['published_at'] !== null).sort((a, b) => (b['version'] as number) - (a['version'] as number))[0];
        if (published) await this.claim(manager, workflowId, published['spec'], audit);
      }
      if (rows.length > 0 && audit) await this.audit(manager, workflowId, audit, {});
      return rows.length;
    });
    this.changed(workflowId);
    return affected;
  }

  /**
   * The workflow that answers a USSD service code in an environment: the newest published
   * version of the active workflow claiming the pair, or null (nobody claims it).
   */
  async findUssdRoute(serviceCode: string, environment: string): Promise<WorkflowEntity | null> {
    const rows = (await this.dataSource.query(
      `SELECT w.* FROM ussd_claims c
         JOIN LATERAL (
           SELECT * FROM workflows
            WHERE workflow_id = c.workflow_id AND published_at IS NOT NULL
            ORDER BY version DESC LIMIT 1
         ) w ON true
        WHERE c.service_code = $1 AND c.environment = $2 AND w.is_active`,
      [serviceCode, environment],
    )) as Record<string, unknown>[];
    return rows[0] ? this.toEntity(rows[0]) : null;
  }

  private async teamOf(manager: EntityManager, workflowId: string): Promise<string | undefined> {
    const rows = (await manager.query(`SELECT team FROM workflow_teams WHERE workflow_id = $1`, [workflowId])) as { team: string }[];
    return rows[0]?.team;
  }

  private async audit(manager: EntityManager, workflowId: string, audit: WorkflowAudit, details: Record<string, unknown>): Promise<void> {
    await recordAudit(manager, {
      actor: audit.actor,
      actorKind: audit.actorKind,
      team: (await this.teamOf(manager, workflowId)) ?? null,
      action: audit.action,
      targetType: 'workflow',
      targetId: workflowId,
      details: { ...details, ...audit.details },
    });
  }

  private async isNewestPublished(manager: EntityManager, workflowId: string, version: number): Promise<boolean> {
    const rows = (await manager.query(`SELECT MAX(version) AS newest FROM workflows WHERE workflow_id = $1 AND published_at IS NOT NULL`, [workflowId])) as { newest: number | null }[];
    return rows[0]?.newest === version;
  }

  /**
   * Replaces the workflow's USSD claims with `spec`'s. Concurrent claimers of one pair are
   * serialised by the primary key: the later one finds it taken and fails the transaction.
   */
  private async claim(manager: EntityManager, workflowId: string, spec: unknown, audit?: WorkflowAudit): Promise<void> {
    // Published specs are validated; anything else (no trigger list) claims nothing rather than failing the publish.
    const triggers = (spec as Partial<WorkflowSpec> | null)?.triggers;
    const claims = Array.isArray(triggers) ? ussdClaims({ triggers: triggers.filter((t) => typeof t === 'object' && t !== null) }) : [];
    const held = await this.mutate(`DELETE FROM ussd_claims WHERE workflow_id = $1 RETURNING service_code, environment`, [workflowId], manager);
    if (claims.length === 0) return;
    // A team claims only codes it was granted (docs/security.md, "Service-code grants").
    const team = (await this.teamOf(manager, workflowId)) ?? 'default';
    const refused = await uncoveredCodes(manager, team, [...new Set(claims.map((c) => c.serviceCode))]);
    if (refused.length > 0) throw new ServiceCodeNotGrantedError(workflowId, team, refused);
    const codes = claims.map((c) => c.serviceCode);
    const environments = claims.map((c) => c.environment);
    const inserted = (await manager.query(
        `INSERT INTO ussd_claims (service_code, environment, workflow_id)
         SELECT code, env, $3::uuid FROM UNNEST($1::text[], $2::text[]) AS t(code, env)
         ON CONFLICT (service_code, environment) DO NOTHING
         RETURNING service_code`,
        [codes, environments, workflowId],
      )) as unknown[];
      if (inserted.length === claims.length) {
        if (audit === undefined) return;
        const before = new Set(held.map((h) => `${String(h['service_code'])} ${String(h['environment'])}`));
        for (const taken of claims.filter((c) => !before.has(`${c.serviceCode} ${c.environment}`))) {
          await recordAudit(manager, { actor: audit.actor, actorKind: audit.actorKind, team, action: 'ussd.claim', targetType: 'service-code', targetId: taken.serviceCode, details: { environment: taken.environment, workflowId } });
        }
        return;
      }
      const holders = (await manager.query(
        `SELECT c.service_code, c.environment, c.workflow_id FROM ussd_claims c
           JOIN UNNEST($1::text[], $2::text[]) AS t(code, env) ON c.service_code = t.code AND c.environment = t.env
          WHERE c.workflow_id <> $3::uuid ORDER BY 1, 2`,
        [codes, environments, workflowId],
      )) as { service_code: string; environment: string; workflow_id: string }[];
      throw new UssdClaimConflictError(
        workflowId,
        holders.map((h) => ({ serviceCode: h.service_code, environment: h.environment, heldBy: h.workflow_id })),
      );
    }
  
    /**
     * Active workflows, each as its newest version, newest first. `offset` is the seed's
     * LIMIT/OFFSET; `after` is keyset pagination for deep pages (stable under inserts).
     */
    async listActive(filter: WorkflowListFilter, limit: number, page: { offset: number } | { after: ListCursor }): Promise<WorkflowEntity[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      const param = (value: unknown) => {
        params.push(value);
        return `$${params.length}`;
      };
      if (filter.tags && filter.tags.length > 0) where.push(`latest.tags ${filter.tagMode === 'all' ? '@>' : '&&'} ${param([...filter.tags])}::text[]`);
      if (filter.environment !== undefined) where.push(`latest.environment = ${param(filter.environment)}`);
      if (filter.createdBy !== undefined) where.push(`latest.created_by = ${param(filter.createdBy)}`);
      if (filter.nameContains !== undefined) where.push(`latest.name ILIKE ${param(likeContains(filter.nameContains))}`);
      if (filter.team !== undefined) where.push(`latest.workflow_id IN (SELECT workflow_id FROM workflow_teams WHERE team = ${param(filter.team)})`);
      if ('after' in page) {
        where.push(`(latest.created_at, latest.id) < (SELECT created_at, id FROM workflows WHERE id = ${param(page.after.id)}::uuid)`);
      }
      const sql = `
        SELECT * FROM (
          SELECT DISTINCT ON (workflow_id) id, workflow_id, version, name, description, created_by, created_at,
                 published_at, tags, environment, is_active
            FROM workflows
           WHERE is_active = true
           ORDER BY workflow_id, version DESC
        ) latest
        ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY latest.created_at DESC, latest.id DESC
        LIMIT ${param(limit)} ${'offset' in page ? `OFFSET ${param(page.offset)}` : ''}`;
      const rows = (await this.dataSource.query(sql, params)) as Record<string, unknown>[];
      return rows.map((row) => this.toEntity(row));
    }
  
    /** UPDATE … RETURNING: TypeORM's postgres driver answers [rows, rowCount] for updates. */
    private async mutate(sql: string, params: unknown[], manager?: EntityManager): Promise<Record<string, unknown>[]> {
      const result = (await (manager ?? this.dataSource).query(sql, params)) as unknown;
      if (Array.isArray(result) && Array.isArray(result[0]) && typeof result[1] === 'number') return result[0] as Record<string, unknown>[];
      return result as Record<string, unknown>[];
    }
  
    private toEntity(row: Record<string, unknown>): WorkflowEntity {
      return this.rows.create({
        id: row['id'] as string,
        workflowId: row['workflow_id'] as string,
        version: row['version'] as number,
        name: row['name'] as string,
        description: (row['description'] as string | null) ?? null,
        spec: row['spec'],
        createdBy: row['created_by'] as string,
        createdAt: new Date(row['created_at'] as string | Date),
        publishedAt: row['published_at'] ? new Date(row['published_at'] as string | Date) : null,
        tags: (row['tags'] as string[] | null) ?? null,
        environment: (row['environment'] as string | null) ?? null,
        isActive: row['is_active'] as boolean,
      });
    }
  }
  