export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The node id that edges (`next`, options, cases, catch) refer to. */
export type NodeId = string;

/** A catch/retry matcher: an exact error code, `prefix*`, or `*` for every error. */
export type ErrorPattern = string;

export type Jitter = 'none' | 'full' | 'equal';

/** One retrier; a node's `retry` list is tried in order and the first rule that matches an error applies. */
export interface RetryRule {
  readonly errors: readonly ErrorPattern[];
  /** Attempts ended by errors this rule matches, the first attempt included (1 = never retry). */
  readonly maxAttempts: number;
  readonly intervalMs?: number;
  readonly backoffRate?: number;
  readonly maxDelayMs?: number;
  readonly jitter?: Jitter;
}

export interface CatchRule {
  readonly errors: readonly ErrorPattern[];
  readonly next: NodeId;
  /** Variable that receives `{ code, message }` of the caught error. */
  readonly resultVariable?: string;
}

/** Fields every node has, whatever its type. */
export interface WorkflowNodeBase {
  readonly id: NodeId;
  readonly type: string;
  readonly name?: string;
  readonly description?: string;
  readonly retry?: readonly RetryRule[];
  readonly timeoutMs?: number;
  readonly catch?: readonly CatchRule[];
}

export interface MenuOption {
  readonly key: string;
  readonly label: string;
  readonly next: NodeId;
}

export interface UssdMenuNode extends WorkflowNodeBase {
  readonly type: 'ussd.menu';
  readonly text: string;
  readonly options: readonly MenuOption[];
  readonly invalidText?: string;
  readonly maxInvalidAttempts?: number;
  readonly variable?: string;
}

export interface InputValidation {
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly expression?: string;
}

export interface UssdInputNode extends WorkflowNodeBase {
  readonly type: 'ussd.input';
  readonly prompt: string;
  readonly variable: string;
  readonly validation?: InputValidation;
  readonly errorText?: string;
  readonly maxInvalidAttempts?: number;
  readonly next: NodeId;
}

export interface UssdEndNode extends WorkflowNodeBase {
  readonly type: 'ussd.end';
  readonly text: string;
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';

export interface HttpRequestNode extends WorkflowNodeBase {
  readonly type: 'http.request';
  readonly method: HttpMethod;
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly next: NodeId;
}

export interface TransformNode extends WorkflowNodeBase {
  readonly type: 'transform';
  readonly assign: Readonly<Record<string, string>>;
  readonly next: NodeId;
}

export interface SwitchCase {
  readonly when: string;
  readonly next: NodeId;
}

export interface SwitchNode extends WorkflowNodeBase {
  readonly type: 'switch';
  readonly cases: readonly SwitchCase[];
  readonly default: NodeId;
}

export interface DelayNode extends WorkflowNodeBase {
  readonly type: 'delay';
  readonly durationMs: number;
  readonly next: NodeId;
}

export interface SubworkflowNode extends WorkflowNodeBase {
  readonly type: 'subworkflow';
  readonly workflowId: string;
  /** Absent: the version published when the node runs. */
  readonly version?: number;
  readonly input?: string;
  readonly next: NodeId;
}

export interface FailNode extends WorkflowNodeBase {
  readonly type: 'fail';
  readonly error: string;
  readonly message?: string;
}

export interface EndNode extends WorkflowNodeBase {
  readonly type: 'end';
  readonly output?: string;
}

export type BuiltinNode =
  | UssdMenuNode
  | UssdInputNode
  | UssdEndNode
  | HttpRequestNode
  | TransformNode
  | SwitchNode
  | DelayNode
  | SubworkflowNode
  | FailNode
  | EndNode;

export type BuiltinNodeType = BuiltinNode['type'];

export interface HttpTrigger {
  readonly type: 'http';
  readonly entry: NodeId;
}

export interface UssdTrigger {
  readonly type: 'ussd';
  readonly serviceCode: string;
  readonly environments: readonly string[];
  readonly entry: NodeId;
}

export type WorkflowTrigger = HttpTrigger | UssdTrigger;

export interface WorkflowSettings {
  readonly executionTimeoutMs: number;
  readonly maxSteps: number;
}

/**
 * A workflow version's definition. `TNode` widens when callers register their own node
 * types with `createSpecValidator`.
 */
export interface WorkflowSpec<TNode extends WorkflowNodeBase = BuiltinNode> {
  readonly specVersion: 1;
  readonly settings: WorkflowSettings;
  readonly variables?: Readonly<Record<string, JsonValue>>;
  readonly triggers: readonly WorkflowTrigger[];
  readonly nodes: readonly TNode[];
}

/** What `$` is when the engine evaluates an expression or a template placeholder. */
export interface ExpressionContext {
  /** HTTP: the request body. USSD: the first hop, `{ sessionId, msisdn, serviceCode, networkCode, text }`. */
  readonly trigger: JsonValue;
  readonly vars: Readonly<Record<string, JsonValue>>;
  /** Output of every node that has run, by node id (the latest run when a node ran twice). */
  readonly nodes: Readonly<Record<string, JsonValue>>;
  /** The USSD session, or null for HTTP-triggered executions. */
  readonly session: { readonly sessionId: string; readonly msisdn: string; readonly serviceCode: string; readonly input: string } | null;
  readonly execution: { readonly id: string; readonly workflowId: string; readonly version: number; readonly environment: string };
  /** The team secrets the spec names as `secrets.NAME`, resolved for this run only (docs/security.md, "Secrets"). */
  readonly secrets?: Readonly<Record<string, string>>;
}

export const SPEC_ERROR_CODES = [
  'not-json',
  'forbidden-key',
  'limit',
  'schema',
  'duplicate-node-id',
  'unknown-node',
  'entry',
  'duplicate-ussd-claim',
  'unreachable',
  'no-path-to-end',
  'expression',
  'regex',
  'duplicate-option-key',
  'duplicate-header',
  'policy',
  'too-many-errors',
  'internal',
] as const;

export type SpecErrorCode = (typeof SPEC_ERROR_CODES)[number];

export interface SpecError {
  /** RFC 6901 pointer into the submitted document; '' is the root. */
  readonly pointer: string;
  /** One of SPEC_ERROR_CODES, or a code a custom node type's `check` reports. */
  readonly code: SpecErrorCode | (string & {});
  readonly message: string;
}

export type SpecValidationResult<TNode extends WorkflowNodeBase = BuiltinNode> =
  | { readonly valid: true; readonly spec: WorkflowSpec<TNode>; readonly errors: [] }
  | { readonly valid: false; readonly errors: SpecError[] };
