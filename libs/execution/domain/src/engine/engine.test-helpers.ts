// Test-only: excluded from the build, imported by the engine's specs.
import { validateWorkflowSpec, type BuiltinNode, type WorkflowSpec } from '@ussd/workflow-domain';
import { envelopeProblem, type ExecutionEvent, type ExecutionEventSink } from '../execution-events.js';
import { WorkflowEngine } from './engine.js';
import type { EngineOptions, PinnedWorkflow, SessionInfo } from './engine.types.js';
import { FakeClock } from './fake-clock.js';

export const WORKFLOW_ID = '6f1c2b9e-3d4a-4c5b-8e7f-0a1b2c3d4e5f';
export const CHILD_WORKFLOW_ID = '7a2d3c0f-4e5b-4d6c-9f80-1b2c3d4e5f60';

/** Keeps every event, checks each envelope against the wire contract, and can be told to fail. */
export class MemorySink implements ExecutionEventSink {
  readonly events: ExecutionEvent[] = [];
  failOn: ((event: ExecutionEvent) => boolean) | undefined;
  mode: 'throw' | 'reject' = 'reject';

  emit(event: ExecutionEvent): void | Promise<void> {
    if (this.failOn?.(event)) {
      if (this.mode === 'throw') throw new Error('stream down');
      return Promise.reject(new Error('stream down'));
    }
    const problem = envelopeProblem(JSON.parse(JSON.stringify(event)));
    if (problem !== undefined) throw new Error(`invalid envelope (${problem}): ${JSON.stringify(event)}`);
    this.events.push(event);
    return undefined;
  }

  /** `type` or `type:nodeId:status` for node events, for order assertions. */
  trail(executionId?: string): string[] {
    return this.events
      .filter((event) => executionId === undefined || event.executionId === executionId)
      .map((event) => (event.type === 'node.finished' ? `node:${event.payload.nodeId}:${event.payload.status}:${event.payload.attempt}` : event.type));
  }

  nodeEvents(nodeId?: string) {
    return this.events.flatMap((event) => (event.type === 'node.finished' && (nodeId === undefined || event.payload.nodeId === nodeId) ? [event.payload] : []));
  }

  finished(executionId?: string) {
    return this.events.flatMap((event) => (event.type === 'execution.finished' && (executionId === undefined || event.executionId === executionId) ? [event.payload] : []));
  }
}

type NodeDraft = Record<string, unknown> & { id: string; type: string };

/**
 * A spec whose http trigger (and a ussd trigger on *384#) enters the first node, checked by the
 * real validator so tests cannot drift from the language.
 */
export function specOf(nodes: readonly NodeDraft[], settings: Partial<WorkflowSpec['settings']> = {}, variables?: Record<string, unknown>): WorkflowSpec {
  const entry = nodes[0]?.id ?? 'missing';
  const candidate = {
    specVersion: 1,
    settings: { executionTimeoutMs: 60_000, maxSteps: 100, ...settings },
    ...(variables === undefined ? {} : { variables }),
    triggers: [
      { type: 'http', entry },
      { type: 'ussd', serviceCode: '*384#', environments: ['default'], entry },
    ],
    nodes,
  };
  const result = validateWorkflowSpec(candidate);
  if (!result.valid) throw new Error(`test spec is invalid: ${JSON.stringify(result.errors)}`);
  return result.spec;
}

export const pinned = (spec: WorkflowSpec, workflowId = WORKFLOW_ID, version = 1): PinnedWorkflow => ({ workflowId, version, spec });

export const SESSION: SessionInfo = { sessionId: 'ATUid_1', msisdn: '+254700000001', serviceCode: '*384#', input: '' };

export function setup(options: Partial<EngineOptions> = {}) {
  const sink = new MemorySink();
  const clock = new FakeClock();
  const engine = new WorkflowEngine({ sink, clock, ...options });
  return { sink, clock, engine };
}

let counter = 0;
export const nextExecutionId = () => `exec-${++counter}`;

/** A typed node literal (the spec's union), for readability in tests. */
export const node = <T extends BuiltinNode>(value: T): T => value;
