/**
 * @ussd/workflow-domain: workflows and their versions (pure TypeScript).
 *
 * - `WorkflowVersionRef`, `parseWorkflowVersionRef`, `isUuid`.
 * - The spec language (docs/workflow-spec.md): `WorkflowSpec` types, `validateWorkflowSpec`
 *   (JSON Schema + graph and expression checks, JSON-pointer errors, never throws),
 *   `workflowSpecJsonSchema`, the open node-type registry `NODE_TYPES`, `ussdClaims`, `diffSpecs`.
 */
export * from './workflow-ref.js';
export * from './spec/index.js';
