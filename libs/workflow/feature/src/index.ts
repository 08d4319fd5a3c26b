/**
 * @ussd/workflow-feature: the workflow registry's HTTP API (NestJS).
 *
 * - `WorkflowFeatureModule`: /workflows: create, versions, drafts (If-Match), publish, roll back,
 *   diff, activation, lists with filters and offset/cursor pages, the spec's JSON Schema.
 * - `WorkflowsService`: the use cases behind it, for other modules.
 * Errors are problem+json: 400 with JSON pointers, 401, 404, 409, 412, 413, 428.
 */
export * from './workflow-feature.module.js';
export * from './workflows.service.js';
export * from './workflow.exception.js';
