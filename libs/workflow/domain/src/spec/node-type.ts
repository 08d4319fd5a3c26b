import type { WorkflowNodeBase } from './spec.types.js';

export type JsonSchema = { readonly [keyword: string]: unknown };

/** An edge out of a node: the JSON pointer of the field, relative to the node, and the node id it names. */
export interface NodeEdge {
  readonly pointer: string;
  readonly target: string;
}

export interface NodeExpression {
  readonly pointer: string;
  readonly source: string;
  /** `expression`: JSONata. `template`: text with `{{ jsonata }}` placeholders. */
  readonly kind: 'expression' | 'template';
}

export interface NodeIssue {
  readonly pointer: string;
  readonly code: string;
  readonly message: string;
}

/**
 * The schema of a node type's own fields. The spec schema adds the common ones (`id`, `type`,
 * `name`, `description` and, with `policies`, `retry`/`timeoutMs`/`catch`) and closes the object.
 * Reference shared definitions with SCHEMA_REFS.
 */
export interface NodeFieldsSchema {
  readonly properties: { readonly [field: string]: JsonSchema };
  readonly required?: readonly string[];
}

/**
 * The whole contract of a node type: adding one is this definition plus its handler in the
 * engine. Pointers are relative to the node (`/options/0/next`); the validator prefixes them.
 * Methods are only called on nodes that passed the schema.
 */
export interface NodeTypeDefinition<TNode extends WorkflowNodeBase = WorkflowNodeBase> {
  readonly type: string;
  readonly description: string;
  readonly schema: NodeFieldsSchema;
  /** Reaching it ends the execution: the targets of "every path can reach an end". */
  readonly terminal: boolean;
  /** Accepts `retry`, `timeoutMs` and `catch` (default true). */
  readonly policies?: boolean;
  successors(node: TNode): NodeEdge[];
  expressions(node: TNode): NodeExpression[];
  /** Checks the schema cannot express (unique keys, regexes that compile). */
  check?(node: TNode): NodeIssue[];
}

/** Shared definitions of the spec schema, for node type schemas to reference. */
export const SCHEMA_REFS = {
  nodeId: { $ref: '#/$defs/nodeId' },
  variableName: { $ref: '#/$defs/variableName' },
  expression: { $ref: '#/$defs/expression' },
  template: { $ref: '#/$defs/template' },
  errorCode: { $ref: '#/$defs/errorCode' },
} as const satisfies Record<string, JsonSchema>;

/** Lets a definition type its node while the registry holds them all as one list. */
export function defineNodeType<TNode extends WorkflowNodeBase>(definition: NodeTypeDefinition<TNode>): NodeTypeDefinition {
  return definition as unknown as NodeTypeDefinition;
}
