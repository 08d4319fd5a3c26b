import { EXPRESSION_MAX_LENGTH, TEMPLATE_MAX_LENGTH } from './expressions.js';
import type { JsonSchema, NodeTypeDefinition } from './node-type.js';
import { NODE_TYPES } from './node-types.js';

/** The bounds the schema enforces, in one place so the docs and tests can quote them. */
export const SPEC_LIMITS = {
  maxNodes: 500,
  maxTriggers: 20,
  maxEnvironments: 10,
  maxVariables: 100,
  maxSteps: 10_000,
  minExecutionTimeoutMs: 1000,
  maxExecutionTimeoutMs: 86_400_000,
  maxNodeTimeoutMs: 86_400_000,
  maxRules: 10,
  maxAttempts: 10,
  maxBackoffRate: 10,
  maxIntervalMs: 3_600_000,
  expressionLength: EXPRESSION_MAX_LENGTH,
  templateLength: TEMPLATE_MAX_LENGTH,
} as const;

export const SPEC_SCHEMA_ID = 'urn:ussd-flow:workflow-spec:1';
export const NODE_ID_PATTERN = '^[A-Za-z][A-Za-z0-9_-]{0,63}$';
export const VARIABLE_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';
export const SERVICE_CODE_PATTERN = '^\\*[0-9]{1,6}(\\*[0-9]{1,6}){0,7}#$';
export const ENVIRONMENT_PATTERN = '^[a-z][a-z0-9-]{0,31}$';
export const ERROR_CODE_PATTERN = '^[A-Za-z][A-Za-z0-9_.-]{0,63}$';
export const ERROR_PATTERN_PATTERN = '^(\\*|[A-Za-z][A-Za-z0-9_.-]{0,63}\\*?)$';

const integer = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum });

/** Keys that would reach Object.prototype if the engine stored them with `vars[name] = ...`. */
const RESERVED_NAMES = ['__proto__', 'constructor', 'prototype'];

const SHARED_DEFINITIONS = {
  nodeId: { type: 'string', pattern: NODE_ID_PATTERN },
  variableName: { type: 'string', pattern: VARIABLE_NAME_PATTERN, not: { enum: RESERVED_NAMES } },
  expression: { type: 'string', minLength: 1, maxLength: EXPRESSION_MAX_LENGTH, description: 'A JSONata expression over { trigger, vars, nodes, session, execution }.' },
  template: { type: 'string', maxLength: TEMPLATE_MAX_LENGTH, description: 'Text with {{ jsonata }} placeholders.' },
  errorCode: { type: 'string', pattern: ERROR_CODE_PATTERN },
  errorPatterns: {
    type: 'array',
    minItems: 1,
    maxItems: 20,
    uniqueItems: true,
    items: { type: 'string', pattern: ERROR_PATTERN_PATTERN },
    description: 'Error codes to match: exact, "prefix*" or "*".',
  },
  retryRule: {
    type: 'object',
    additionalProperties: false,
    required: ['errors', 'maxAttempts'],
    properties: {
      errors: { $ref: '#/$defs/errorPatterns' },
      maxAttempts: { ...integer(1, SPEC_LIMITS.maxAttempts), description: 'Attempts, the first included, while errors match this rule.' },
      intervalMs: integer(0, SPEC_LIMITS.maxIntervalMs),
      backoffRate: { type: 'number', minimum: 1, maximum: SPEC_LIMITS.maxBackoffRate },
      maxDelayMs: integer(0, SPEC_LIMITS.maxIntervalMs),
      jitter: { enum: ['none', 'full', 'equal'] },
    },
  },
  catchRule: {
    type: 'object',
    additionalProperties: false,
    required: ['errors', 'next'],
    properties: {
      errors: { $ref: '#/$defs/errorPatterns' },
      next: { $ref: '#/$defs/nodeId' },
      resultVariable: { $ref: '#/$defs/variableName' },
    },
  },
  httpTrigger: {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'entry'],
    properties: { type: { const: 'http' }, entry: { $ref: '#/$defs/nodeId' } },
  },
  ussdTrigger: {
    type: 'object',
    additionalProperties: false,
    required: ['type', 'serviceCode', 'environments', 'entry'],
    properties: {
      type: { const: 'ussd' },
      serviceCode: { type: 'string', maxLength: 64, pattern: SERVICE_CODE_PATTERN, description: 'e.g. *384*123#' },
      environments: {
        type: 'array',
        minItems: 1,
        maxItems: SPEC_LIMITS.maxEnvironments,
        uniqueItems: true,
        items: { type: 'string', pattern: ENVIRONMENT_PATTERN },
      },
      entry: { $ref: '#/$defs/nodeId' },
    },
  },
} as const;

const POLICY_PROPERTIES = {
  retry: { type: 'array', minItems: 1, maxItems: SPEC_LIMITS.maxRules, items: { $ref: '#/$defs/retryRule' } },
  timeoutMs: integer(1, SPEC_LIMITS.maxNodeTimeoutMs),
  catch: { type: 'array', minItems: 1, maxItems: SPEC_LIMITS.maxRules, items: { $ref: '#/$defs/catchRule' } },
};

/** `if type is X then <X's closed schema>`: one precise error set per node instead of oneOf's noise. */
function discriminated(types: readonly string[], refOf: (type: string) => string): JsonSchema[] {
  return types.map((type) => ({
    if: { type: 'object', required: ['type'], properties: { type: { const: type } } },
    then: { $ref: refOf(type) },
  }));
}

function nodeDefinition(nodeType: NodeTypeDefinition): JsonSchema {
  const policies = nodeType.policies ?? true;
  return {
    type: 'object',
    description: nodeType.description,
    additionalProperties: false,
    required: ['id', 'type', ...(nodeType.schema.required ?? [])],
    properties: {
      id: { $ref: '#/$defs/nodeId' },
      type: { const: nodeType.type },
      name: { type: 'string', maxLength: 200 },
      description: { type: 'string', maxLength: 2000 },
      ...(policies ? POLICY_PROPERTIES : {}),
      ...nodeType.schema.properties,
    },
  };
}

/**
 * The JSON Schema (draft 2020-12) of a workflow spec with these node types, as a fresh plain
 * object. The static checks (graph, expressions) go beyond it; see validateWorkflowSpec.
 */
export function workflowSpecJsonSchema(nodeTypes: readonly NodeTypeDefinition[] = NODE_TYPES): JsonSchema {
  const types = nodeTypes.map((nodeType) => nodeType.type);
  const nodeRef = (type: string) => `#/$defs/node:${type}`;
  const nodeDefinitions = Object.fromEntries(nodeTypes.map((nodeType) => [`node:${nodeType.type}`, nodeDefinition(nodeType)]));
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: SPEC_SCHEMA_ID,
    title: 'Workflow spec',
    description: 'A workflow version: triggers, settings and a graph of nodes whose edges are node ids.',
    type: 'object',
    additionalProperties: false,
    required: ['specVersion', 'settings', 'triggers', 'nodes'],
    properties: {
      $schema: { type: 'string', maxLength: 2000 },
      specVersion: { const: 1 },
      settings: {
        type: 'object',
        additionalProperties: false,
        required: ['executionTimeoutMs', 'maxSteps'],
        properties: {
          executionTimeoutMs: integer(SPEC_LIMITS.minExecutionTimeoutMs, SPEC_LIMITS.maxExecutionTimeoutMs),
          maxSteps: { ...integer(1, SPEC_LIMITS.maxSteps), description: 'Node runs per execution, retries included.' },
        },
      },
      variables: {
        type: 'object',
        maxProperties: SPEC_LIMITS.maxVariables,
        propertyNames: { $ref: '#/$defs/variableName' },
        description: 'Initial values of vars.',
      },
      triggers: {
        type: 'array',
        minItems: 1,
        maxItems: SPEC_LIMITS.maxTriggers,
        items: {
          type: 'object',
          required: ['type'],
          properties: { type: { enum: ['http', 'ussd'] } },
          allOf: discriminated(['http', 'ussd'], (type) => `#/$defs/${type}Trigger`),
        },
      },
      nodes: {
        type: 'array',
        minItems: 1,
        maxItems: SPEC_LIMITS.maxNodes,
        items: {
          type: 'object',
          required: ['id', 'type'],
          properties: { id: { $ref: '#/$defs/nodeId' }, type: { enum: types } },
          allOf: discriminated(types, nodeRef),
        },
      },
    },
    $defs: { ...SHARED_DEFINITIONS, ...nodeDefinitions },
  };
  // A deep copy, so no caller can edit the shared constants through the result.
  return structuredClone(schema);
}
