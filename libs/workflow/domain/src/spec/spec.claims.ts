import type { WorkflowSpec, WorkflowNodeBase } from './spec.types.js';

export interface UssdClaim {
  readonly serviceCode: string;
  readonly environment: string;
}

/**
 * The (service code, environment) pairs a spec answers, deduplicated and sorted, so the
 * registry can refuse to publish two workflows that claim the same pair.
 */
export function ussdClaims(spec: Pick<WorkflowSpec<WorkflowNodeBase>, 'triggers'>): UssdClaim[] {
  const claims = new Map<string, UssdClaim>();
  for (const trigger of spec.triggers) {
    if (trigger.type !== 'ussd') continue;
    for (const environment of trigger.environments) {
      claims.set(`${trigger.serviceCode} ${environment}`, { serviceCode: trigger.serviceCode, environment });
    }
  }
  return [...claims.values()].sort(
    (a, b) => compare(a.serviceCode, b.serviceCode) || compare(a.environment, b.environment),
  );
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
