/**
 * @ussd/workflow-domain: workflows and their versions (pure TypeScript).
 *
 * - `WorkflowVersionRef`, `parseWorkflowVersionRef`, `isUuid`.
 * The spec language (types, JSON Schema, graph checks) arrives with the workflow registry issue.
 */
export * from './workflow-ref.js';
