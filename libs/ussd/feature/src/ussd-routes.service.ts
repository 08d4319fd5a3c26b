import { Injectable } from '@nestjs/common';
import type { PinnedWorkflow } from '@ussd/execution-domain';
import { type WorkflowEntity, WorkflowRepository } from '@ussd/workflow-data-access';
import type { WorkflowSpec } from '@ussd/workflow-domain';

/** How long another replica's publish or deactivation may go unseen here (this one's are seen at once). */
const ROUTE_CACHE_MS = 1000;
const ROUTE_CACHE_MAX = 10_000;

/**
 * Service code + environment -> the workflow version a new session runs: the newest published
 * version of the active workflow claiming the pair (the `ussd_claims` table, so one lookup by
 * primary key). Cached for a second, misses included, so a flood of dials to an unpublished
 * code does not reach PostgreSQL on every hop; a publish in this process clears the cache.
 * Published specs never change, so sessions also resolve their pinned version here.
 */
@Injectable()
export class UssdRoutes {
  private readonly routes = new Map<string, { workflow: PinnedWorkflow | null; expiresAt: number }>();
  /** Lookups in flight: a burst of first hops when the cached entry expires makes one query, not hundreds. */
  private readonly loading = new Map<string, Promise<PinnedWorkflow | null>>();
  private readonly versions = new Map<string, PinnedWorkflow>();

  constructor(private readonly workflows: WorkflowRepository) {
    workflows.onChange(() => this.routes.clear());
  }

  async route(serviceCode: string, environment: string): Promise<PinnedWorkflow | null> {
    const key = `${serviceCode} ${environment}`;
    const cached = this.routes.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.workflow;
    let loading = this.loading.get(key);
    if (loading === undefined) {
      loading = this.workflows
        .findUssdRoute(serviceCode, environment)
        .then((entity) => {
          const workflow = entity === null ? null : pin(entity);
          if (this.routes.size >= ROUTE_CACHE_MAX) this.routes.clear();
          this.routes.set(key, { workflow, expiresAt: Date.now() + ROUTE_CACHE_MS });
          return workflow;
        })
        .finally(() => this.loading.delete(key));
      this.loading.set(key, loading);
    }
    return loading;
  }

  /** A published version by number (what a session pinned); null if it is not published. */
  async pinned(workflowId: string, version: number): Promise<PinnedWorkflow | null> {
    const key = `${workflowId}@${version}`;
    const cached = this.versions.get(key);
    if (cached) return cached;
    const entity = await this.workflows.findVersion(workflowId, version);
    if (entity === null || entity.publishedAt === null) return null;
    if (this.versions.size >= ROUTE_CACHE_MAX) this.versions.clear();
    const workflow = pin(entity);
    this.versions.set(key, workflow);
    return workflow;
  }

  /** For `subworkflow` nodes: the newest published version, or a given published one. */
  async resolvePublished(workflowId: string, version?: number): Promise<PinnedWorkflow | null> {
    if (version !== undefined) return this.pinned(workflowId, version);
    const entity = await this.workflows.findLatestPublished(workflowId);
    return entity === null ? null : pin(entity);
  }
}

function pin(entity: WorkflowEntity): PinnedWorkflow {
  return { workflowId: entity.workflowId, version: entity.version, spec: entity.spec as WorkflowSpec };
}
