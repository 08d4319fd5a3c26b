import type { WorkflowNodeBase, WorkflowSpec } from '@ussd/workflow-domain';
import { isRecord } from './json.js';

/** A spec indexed for running, or why it cannot run. */
export type PreparedSpec = { readonly ok: true; readonly nodesById: ReadonlyMap<string, WorkflowNodeBase> } | { readonly ok: false; readonly problem: string };

const prepared = new WeakMap<object, PreparedSpec>();

/**
 * The engine trusts the registry to publish only specs `validateWorkflowSpec` accepted, and
 * does not validate again on the hot path. It still checks what it dereferences, so a spec
 * that slipped through (a hand-made one, a test) fails its execution with
 * `execution.invalid_spec` rather than crashing; edges are checked as they are followed.
 * Cached per spec object: callers that keep published specs in memory pay this once.
 */
export function prepareSpec(spec: WorkflowSpec): PreparedSpec {
  if (!isRecord(spec)) return { ok: false, problem: 'the spec is not an object' };
  const cached = prepared.get(spec);
  if (cached !== undefined) return cached;
  const result = build(spec);
  prepared.set(spec, result);
  return result;
}

function build(spec: WorkflowSpec): PreparedSpec {
  const settings: unknown = spec.settings;
  if (!isRecord(settings)) return { ok: false, problem: 'settings is missing' };
  const timeout = settings['executionTimeoutMs'];
  const maxSteps = settings['maxSteps'];
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) return { ok: false, problem: 'settings.executionTimeoutMs must be a positive number' };
  if (!Number.isSafeInteger(maxSteps) || (maxSteps as number) < 1) return { ok: false, problem: 'settings.maxSteps must be a positive integer' };
  if (!Array.isArray(spec.triggers)) return { ok: false, problem: 'triggers must be a list' };
  if (!Array.isArray(spec.nodes)) return { ok: false, problem: 'nodes must be a list' };
  const nodesById = new Map<string, WorkflowNodeBase>();
  for (const node of spec.nodes as unknown[]) {
    if (!isRecord(node) || typeof node['id'] !== 'string' || typeof node['type'] !== 'string') return { ok: false, problem: 'every node needs a string id and type' };
    if (nodesById.has(node['id'])) return { ok: false, problem: `node id '${node['id']}' is used twice` };
    nodesById.set(node['id'], node as unknown as WorkflowNodeBase);
  }
  return { ok: true, nodesById };
}

/**
 * The entry node for a trigger. USSD: the trigger claiming the session's service code in this
 * environment, else the one claiming the code at all, else the first USSD trigger. Subworkflow
 * children enter like an API call (the `http` trigger), else by the first trigger.
 */
export function entryFor(spec: WorkflowSpec, type: 'http' | 'ussd' | 'subworkflow', serviceCode: string | undefined, environment: string): string | undefined {
  const triggers = spec.triggers.filter(isRecord) as unknown as WorkflowSpec['triggers'];
  if (type === 'ussd') {
    const ussd = triggers.filter((trigger) => trigger.type === 'ussd');
    const exact = ussd.find((trigger) => trigger.serviceCode === serviceCode && Array.isArray(trigger.environments) && trigger.environments.includes(environment));
    return (exact ?? ussd.find((trigger) => trigger.serviceCode === serviceCode) ?? ussd[0])?.entry;
  }
  const http = triggers.find((trigger) => trigger.type === 'http');
  return type === 'http' ? http?.entry : (http ?? triggers[0])?.entry;
}
