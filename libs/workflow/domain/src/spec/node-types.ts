import { pointer } from './json-pointer.js';
import { checkRegex } from './linear-regex.js';
import { defineNodeType, SCHEMA_REFS, type NodeExpression, type NodeIssue, type NodeTypeDefinition } from './node-type.js';
import type {
  DelayNode,
  EndNode,
  FailNode,
  HttpRequestNode,
  SubworkflowNode,
  SwitchNode,
  TransformNode,
  UssdEndNode,
  UssdInputNode,
  UssdMenuNode,
} from './spec.types.js';

/** USSD gateways cap a reply at 182 characters; longer answers cannot arrive. */
const USSD_INPUT_MAX = 182;
const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-8][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$';
/** RFC 9110 token. */
const HEADER_NAME_PATTERN = "^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,128}$";
const DAY_MS = 86_400_000;

const text = (maxLength: number) => ({ ...SCHEMA_REFS.template, type: 'string', minLength: 1, maxLength });
const int = (minimum: number, maximum: number) => ({ type: 'integer', minimum, maximum });
const next = (target: string) => [{ pointer: '/next', target }];

function template(path: readonly (string | number)[], source: string | undefined): NodeExpression[] {
  return source === undefined ? [] : [{ pointer: pointer(...path), source, kind: 'template' }];
}

function expression(path: readonly (string | number)[], source: string | undefined): NodeExpression[] {
  return source === undefined ? [] : [{ pointer: pointer(...path), source, kind: 'expression' }];
}

export const ussdMenuNodeType = defineNodeType<UssdMenuNode>({
  type: 'ussd.menu',
  description: 'Shows text and numbered options, waits for a choice and follows its edge; an invalid choice re-prompts.',
  schema: {
    required: ['text', 'options'],
    properties: {
      text: text(1000),
      options: {
        type: 'array',
        minItems: 1,
        maxItems: 20,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['key', 'label', 'next'],
          properties: {
            key: { type: 'string', pattern: '^[0-9*#]{1,4}$', description: 'What the subscriber types, e.g. "1" or "0".' },
            label: text(200),
            next: SCHEMA_REFS.nodeId,
          },
        },
      },
      invalidText: text(500),
      maxInvalidAttempts: { ...int(1, 10), description: 'Invalid choices before the node fails with ussd.invalid_choice.' },
      variable: { ...SCHEMA_REFS.variableName, description: 'Receives the chosen key.' },
    },
  },
  terminal: false,
  successors: (node) => node.options.map((option, index) => ({ pointer: pointer('options', index, 'next'), target: option.next })),
  expressions: (node) => [
    ...template(['text'], node.text),
    ...node.options.flatMap((option, index) => template(['options', index, 'label'], option.label)),
    ...template(['invalidText'], node.invalidText),
  ],
  check: (node) => {
    const seen = new Set<string>();
    const issues: NodeIssue[] = [];
    node.options.forEach((option, index) => {
      if (seen.has(option.key)) {
        issues.push({ pointer: pointer('options', index, 'key'), code: 'duplicate-option-key', message: `option key '${option.key}' is used twice` });
      }
      seen.add(option.key);
    });
    return issues;
  },
});

export const ussdInputNodeType = defineNodeType<UssdInputNode>({
  type: 'ussd.input',
  description: 'Prompts for free text, validates it (re-prompting when invalid) and stores it in a variable.',
  schema: {
    required: ['prompt', 'variable', 'next'],
    properties: {
      prompt: text(1000),
      variable: SCHEMA_REFS.variableName,
      validation: {
        type: 'object',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          pattern: { type: 'string', minLength: 1, maxLength: 200, description: 'Regular expression the whole answer must match: JavaScript syntax (u flag) that RE2 runs (no lookaround, no backreferences).' },
          minLength: int(0, USSD_INPUT_MAX),
          maxLength: int(1, USSD_INPUT_MAX),
          expression: { ...SCHEMA_REFS.expression, description: 'JSONata; the answer is $value; truthy means valid.' },
        },
      },
      errorText: text(500),
      maxInvalidAttempts: { ...int(1, 10), description: 'Invalid answers before the node fails with ussd.invalid_input.' },
      next: SCHEMA_REFS.nodeId,
    },
  },
  terminal: false,
  successors: (node) => next(node.next),
  expressions: (node) => [
    ...template(['prompt'], node.prompt),
    ...expression(['validation', 'expression'], node.validation?.expression),
    ...template(['errorText'], node.errorText),
  ],
  check: (node) => {
    const issues: NodeIssue[] = [];
    const validation = node.validation;
    if (validation?.pattern !== undefined) {
      try {
        new RegExp(validation.pattern, 'u');
        // The engine matches with RE2 (linear time), which lacks lookaround and backreferences.
        const linear = checkRegex(validation.pattern);
        if (!linear.ok) issues.push({ pointer: '/validation/pattern', code: 'regex', message: linear.message });
      } catch (error) {
        const reason = error instanceof Error ? error.message : 'invalid';
        issues.push({ pointer: '/validation/pattern', code: 'regex', message: `pattern does not compile: ${reason}` });
      }
    }
    if (validation?.minLength !== undefined && validation.maxLength !== undefined && validation.minLength > validation.maxLength) {
      issues.push({ pointer: '/validation/minLength', code: 'schema', message: 'minLength is greater than maxLength' });
    }
    return issues;
  },
});

export const ussdEndNodeType = defineNodeType<UssdEndNode>({
  type: 'ussd.end',
  description: 'Sends a final message and closes the USSD session; the execution completes.',
  schema: { required: ['text'], properties: { text: text(1000) } },
  terminal: true,
  successors: () => [],
  expressions: (node) => template(['text'], node.text),
});

export const httpRequestNodeType = defineNodeType<HttpRequestNode>({
  type: 'http.request',
  description: 'Calls an HTTP endpoint; its output is { status, headers, body }. Non-2xx statuses fail with http.status.<code>.',
  schema: {
    required: ['method', 'url', 'next'],
    properties: {
      method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] },
      url: { ...text(2000), pattern: '^(https?://|\\{\\{)', description: 'Template; must start with http(s):// or a placeholder.' },
      headers: {
        type: 'object',
        maxProperties: 50,
        propertyNames: { pattern: HEADER_NAME_PATTERN },
        additionalProperties: text(2000),
      },
      body: { ...SCHEMA_REFS.expression, description: 'JSONata; its result is sent as JSON.' },
      next: SCHEMA_REFS.nodeId,
    },
  },
  terminal: false,
  successors: (node) => next(node.next),
  expressions: (node) => [
    ...template(['url'], node.url),
    ...Object.entries(node.headers ?? {}).flatMap(([name, value]) => template(['headers', name], value)),
    ...expression(['body'], node.body),
  ],
  check: (node) => {
    const seen = new Set<string>();
    const issues: NodeIssue[] = [];
    for (const name of Object.keys(node.headers ?? {})) {
      const folded = name.toLowerCase();
      if (seen.has(folded)) {
        issues.push({ pointer: pointer('headers', name), code: 'duplicate-header', message: `header '${name}' is set twice (names are case-insensitive)` });
      }
      seen.add(folded);
    }
    return issues;
  },
});

export const transformNodeType = defineNodeType<TransformNode>({
  type: 'transform',
  description: 'Assigns variables from expressions, all evaluated against the context as it was before the node.',
  schema: {
    required: ['assign', 'next'],
    properties: {
      assign: {
        type: 'object',
        minProperties: 1,
        maxProperties: 50,
        propertyNames: SCHEMA_REFS.variableName,
        additionalProperties: SCHEMA_REFS.expression,
      },
      next: SCHEMA_REFS.nodeId,
    },
  },
  terminal: false,
  successors: (node) => next(node.next),
  expressions: (node) => Object.entries(node.assign).flatMap(([name, source]) => expression(['assign', name], source)),
});

export const switchNodeType = defineNodeType<SwitchNode>({
  type: 'switch',
  description: 'Follows the first case whose `when` is truthy, else `default`.',
  schema: {
    required: ['cases', 'default'],
    properties: {
      cases: {
        type: 'array',
        minItems: 1,
        maxItems: 50,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['when', 'next'],
          properties: { when: SCHEMA_REFS.expression, next: SCHEMA_REFS.nodeId },
        },
      },
      default: SCHEMA_REFS.nodeId,
    },
  },
  terminal: false,
  successors: (node) => [
    ...node.cases.map((branch, index) => ({ pointer: pointer('cases', index, 'next'), target: branch.next })),
    { pointer: '/default', target: node.default },
  ],
  expressions: (node) => node.cases.flatMap((branch, index) => expression(['cases', index, 'when'], branch.when)),
});

export const delayNodeType = defineNodeType<DelayNode>({
  type: 'delay',
  description: 'Waits, then continues.',
  schema: { required: ['durationMs', 'next'], properties: { durationMs: int(1, DAY_MS), next: SCHEMA_REFS.nodeId } },
  terminal: false,
  successors: (node) => next(node.next),
  expressions: () => [],
});

export const subworkflowNodeType = defineNodeType<SubworkflowNode>({
  type: 'subworkflow',
  description: "Runs another workflow's published version; its `end` output is this node's output.",
  schema: {
    required: ['workflowId', 'next'],
    properties: {
      workflowId: { type: 'string', pattern: UUID_PATTERN },
      version: { ...int(1, 999_999_999), description: 'Pinned version; absent means the version published when the node runs.' },
      input: { ...SCHEMA_REFS.expression, description: "JSONata; becomes the child's trigger payload." },
      next: SCHEMA_REFS.nodeId,
    },
  },
  terminal: false,
  successors: (node) => next(node.next),
  expressions: (node) => expression(['input'], node.input),
});

export const failNodeType = defineNodeType<FailNode>({
  type: 'fail',
  description: 'Ends the execution as failed with an error code (a parent subworkflow node can catch it).',
  schema: { required: ['error'], properties: { error: SCHEMA_REFS.errorCode, message: text(1000) } },
  terminal: true,
  // Catching or retrying the error a node raises on purpose would be a goto in disguise.
  policies: false,
  successors: () => [],
  expressions: (node) => template(['message'], node.message),
});

export const endNodeType = defineNodeType<EndNode>({
  type: 'end',
  description: 'Ends the execution as completed; `output` is its result.',
  schema: { properties: { output: SCHEMA_REFS.expression } },
  terminal: true,
  successors: () => [],
  expressions: (node) => expression(['output'], node.output),
});

/** The built-in node types. Register another by passing `[...NODE_TYPES, mine]` to createSpecValidator. */
export const NODE_TYPES: readonly NodeTypeDefinition[] = [
  ussdMenuNodeType,
  ussdInputNodeType,
  ussdEndNodeType,
  httpRequestNodeType,
  transformNodeType,
  switchNodeType,
  delayNodeType,
  subworkflowNodeType,
  failNodeType,
  endNodeType,
];
