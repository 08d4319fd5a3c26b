/**
 * @ussd/workflow-data-access: workflows in PostgreSQL.
 *
 * - `WorkflowEntity`: a row of the seed's `workflows` table (one version of one workflow).
 * - `WorkflowRepository`: the seed's access patterns (create, read, update, list) plus
 *   versions, publish, activation and keyset pages; parameterised SQL only.
 * - `WorkflowDataAccessModule`: registers both with TypeORM.
 */
export * from './workflow.entity.js';
export * from './workflow.repository.js';
export * from './workflow-data-access.module.js';
