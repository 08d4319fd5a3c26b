/**
 * The workflow spec language (reference: docs/workflow-spec.md).
 *
 * - Types: `WorkflowSpec`, nodes, triggers, `SpecError`, `ExpressionContext`.
 * - `validateWorkflowSpec` / `createSpecValidator`: JSON-only input, JSON Schema, then graph,
 *   expression and node-type checks; JSON-pointer errors; never throws.
 * - `workflowSpecJsonSchema` (draft 2020-12), `NODE_TYPES` (the open registry), `ussdClaims`,
 *   `diffSpecs`, `compileExpression` / `parseTemplate` (JSONata: parsed and statically checked;
 *   evaluation bounded by EXPRESSION_EVALUATION_LIMITS, regular expressions on RE2), retry helpers.
 * - Tests reuse `validSpecArbitrary` from `spec.test-helpers.ts` (not exported here).
 */
export * from './spec.types.js';
export { compileExpression, parseTemplate, EXPRESSION_MAX_LENGTH, TEMPLATE_MAX_LENGTH } from './expressions.js';
export type { CompiledExpression, ExpressionProblem, ParsedTemplate, TemplatePart } from './expressions.js';
export { EXPRESSION_EVALUATION_LIMITS, EXPRESSION_LIMIT_CODE, ExpressionLimitError } from './expression-sandbox.js';
export type { BoundedExpression, EvaluateOptions, ExpressionLimitName, ExpressionLimits } from './expression-sandbox.js';
export { checkRegex, REGEX_LIMITS, UnsupportedRegexError, wholeMatchTester } from './linear-regex.js';
export type { RegexCheck } from './linear-regex.js';
export { defineNodeType, SCHEMA_REFS } from './node-type.js';
export type { JsonSchema, NodeEdge, NodeExpression, NodeFieldsSchema, NodeIssue, NodeTypeDefinition } from './node-type.js';
export {
  NODE_TYPES,
  delayNodeType,
  endNodeType,
  failNodeType,
  httpRequestNodeType,
  subworkflowNodeType,
  switchNodeType,
  transformNodeType,
  ussdEndNodeType,
  ussdInputNodeType,
  ussdMenuNodeType,
} from './node-types.js';
export { SPEC_LIMITS, SPEC_SCHEMA_ID, workflowSpecJsonSchema } from './spec.schema.js';
export { createSpecValidator, validateWorkflowSpec } from './spec.validator.js';
export type { SpecValidator } from './spec.validator.js';
export { MAX_SPEC_ERRORS } from './spec-errors.js';
export { JSON_INPUT_LIMITS } from './json-input.js';
export { ussdClaims } from './spec.claims.js';
export type { UssdClaim } from './spec.claims.js';
export { diffSpecs } from './spec.diff.js';
export { secretNames, secretReferences } from './secret-references.js';
export type { SecretReference } from './secret-references.js';
export type { SpecDiffOperation } from './spec.diff.js';
export { errorMatches, EXECUTION_ERROR_CODES, findRule, NODE_ERROR_CODES, retryDelayMs, RETRY_DEFAULTS } from './policies.js';
