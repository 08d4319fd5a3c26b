/**
 * @ussd/execution-domain: executions and their statuses (pure TypeScript).
 *
 * - `ExecutionStatus`, `TERMINAL_STATUSES`, `canTransition`: statuses only move forward.
 * The engine, node handlers and event contracts arrive with the execution engine issue.
 */
export * from './execution-status.js';
export * from './execution-events.js';
