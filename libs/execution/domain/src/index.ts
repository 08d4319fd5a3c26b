/**
 * @ussd/execution-domain: executions and their statuses (pure TypeScript).
 *
 * - `ExecutionStatus`, `TERMINAL_STATUSES`, `canTransition`: statuses only move forward.
 * - Event contract: `ExecutionEvent` envelopes, `ExecutionEventSink`, `envelopeProblem`.
 * - Engine (`./engine`): `WorkflowEngine`, node handlers, continuations, clock and HTTP client.
 */
export * from './execution-status.js';
export * from './execution-events.js';
export * from './engine/index.js';
