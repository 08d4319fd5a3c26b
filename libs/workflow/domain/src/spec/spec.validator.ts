import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { checkGraph, type NodeTypeIndex } from './graph-checks.js';
import { copyJsonInput } from './json-input.js';
import { escapePointerToken } from './json-pointer.js';
import { checkNodes } from './node-checks.js';
import type { JsonSchema, NodeTypeDefinition } from './node-type.js';
import { NODE_TYPES } from './node-types.js';
import { SpecErrorList } from './spec-errors.js';
import { workflowSpecJsonSchema } from './spec.schema.js';
import type { BuiltinNode, SpecError, SpecValidationResult, WorkflowNodeBase, WorkflowSpec } from './spec.types.js';

const NODE_TYPE_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

export interface SpecValidator<TNode extends WorkflowNodeBase = BuiltinNode> {
  readonly nodeTypes: readonly NodeTypeDefinition[];
  readonly jsonSchema: JsonSchema;
  /** Never throws: any input, JSON or not, gets a result. */
  validate(input: unknown): SpecValidationResult<TNode>;
}

/**
 * Compiles the schema for these node types (a few milliseconds; keep the validator).
 * Throws only for a faulty registry: duplicate or malformed type names.
 */
export function createSpecValidator<TNode extends WorkflowNodeBase = BuiltinNode>(
  nodeTypes: readonly NodeTypeDefinition[] = NODE_TYPES,
): SpecValidator<TNode> {
  const index: NodeTypeIndex = indexNodeTypes(nodeTypes);
  const jsonSchema = workflowSpecJsonSchema(nodeTypes);
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  const validateSchema = ajv.compile(jsonSchema);
  return {
    nodeTypes,
    jsonSchema,
    validate: (input) => validate<TNode>(input, validateSchema, index),
  };
}

function validate<TNode extends WorkflowNodeBase>(input: unknown, validateSchema: ValidateFunction, nodeTypes: NodeTypeIndex): SpecValidationResult<TNode> {
  try {
    const errors = new SpecErrorList();
    const copy = copyJsonInput(input, errors);
    if (copy === undefined) return { valid: false, errors: errors.toArray() };
    if (!validateSchema(copy)) {
      schemaErrors(validateSchema.errors ?? []).forEach((error) => errors.add(error));
      return { valid: false, errors: errors.toArray() };
    }
    // The schema proved the shape the static checks rely on.
    const spec = copy as unknown as WorkflowSpec<TNode>;
    checkGraph(spec, nodeTypes, errors);
    checkNodes(spec, nodeTypes, errors);
    return errors.isEmpty ? { valid: true, spec, errors: [] } : { valid: false, errors: errors.toArray() };
  } catch (error) {
    // Only a bug (here or in a custom node type) lands here; the caller still gets an answer.
    const reason = error instanceof Error ? error.message.slice(0, 200) : 'unknown error';
    return { valid: false, errors: [{ pointer: '', code: 'internal', message: `validation failed unexpectedly: ${reason}` }] };
  }
}

const defaultValidator = lazy(() => createSpecValidator());
const customValidators = new WeakMap<readonly NodeTypeDefinition[], SpecValidator<WorkflowNodeBase>>();

/**
 * Validates a workflow spec: JSON-only input, the JSON Schema, then the static checks (graph,
 * expressions, node types' own checks). Returns the spec as a fresh plain-JSON copy. Errors
 * carry RFC 6901 pointers; at most MAX_SPEC_ERRORS are returned. Never throws.
 * Compiled schemas are cached per `nodeTypes` array: pass the same array every time (or keep
 * a `createSpecValidator` result) rather than a new one per call.
 */
export function validateWorkflowSpec<TNode extends WorkflowNodeBase = BuiltinNode>(
  input: unknown,
  nodeTypes?: readonly NodeTypeDefinition[],
): SpecValidationResult<TNode> {
  if (nodeTypes === undefined || nodeTypes === NODE_TYPES) return defaultValidator().validate(input) as SpecValidationResult<TNode>;
  let validator = customValidators.get(nodeTypes);
  if (validator === undefined) {
    validator = createSpecValidator(nodeTypes);
    customValidators.set(nodeTypes, validator);
  }
  return validator.validate(input) as SpecValidationResult<TNode>;
}

function indexNodeTypes(nodeTypes: readonly NodeTypeDefinition[]): NodeTypeIndex {
  const index = new Map<string, NodeTypeDefinition>();
  for (const nodeType of nodeTypes) {
    if (!NODE_TYPE_PATTERN.test(nodeType.type)) throw new Error(`node type name '${nodeType.type}' must match ${NODE_TYPE_PATTERN.source}`);
    if (index.has(nodeType.type)) throw new Error(`node type '${nodeType.type}' is registered twice`);
    index.set(nodeType.type, nodeType);
  }
  return index;
}

/** Ajv's errors as SpecErrors: pointers aimed at the offending field, the `if` echoes dropped. */
function schemaErrors(ajvErrors: readonly ErrorObject[]): SpecError[] {
  const seen = new Set<string>();
  const result: SpecError[] = [];
  for (const error of ajvErrors) {
    const mapped = schemaError(error);
    if (mapped === undefined) continue;
    const key = `${mapped.pointer}\u0000${mapped.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(mapped);
  }
  return result;
}

function schemaError(error: ErrorObject): SpecError | undefined {
  const params = error.params as Record<string, unknown>;
  const child = (name: unknown) => `${error.instancePath}/${escapePointerToken(String(name))}`;
  // The failing `then` reports the details; "must match then" adds nothing.
  if (error.keyword === 'if') return undefined;
  // propertyNames reports the name's own failure first; this summary would repeat it.
  if (error.keyword === 'propertyNames') return undefined;
  const at = error.propertyName === undefined ? error.instancePath : child(error.propertyName);
  const subject = error.propertyName === undefined ? '' : `name '${error.propertyName}' `;
  switch (error.keyword) {
    case 'required':
      return { pointer: child(params['missingProperty']), code: 'schema', message: `required field '${String(params['missingProperty'])}' is missing` };
    case 'additionalProperties':
      return { pointer: child(params['additionalProperty']), code: 'schema', message: `unknown field '${String(params['additionalProperty'])}'` };
    case 'enum':
      return { pointer: at, code: 'schema', message: `${subject}must be one of ${JSON.stringify(params['allowedValues'])}` };
    case 'const':
      return { pointer: at, code: 'schema', message: `${subject}must be ${JSON.stringify(params['allowedValue'])}` };
    case 'not':
      return { pointer: at, code: 'schema', message: `${subject}is reserved` };
    default:
      return { pointer: at, code: 'schema', message: `${subject}${error.message ?? 'is invalid'}` };
  }
}

function lazy<T>(create: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= create());
}
