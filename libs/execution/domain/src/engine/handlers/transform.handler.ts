import type { JsonValue, TransformNode } from '@ussd/workflow-domain';
import { setOwn } from '../json.js';
import type { NodeHandler } from '../node-handler.js';

/** Evaluates every assignment against the context before the node, so their order does not matter. */
export const transformHandler: NodeHandler<TransformNode> = {
  async run(node, context) {
    const values: Record<string, JsonValue> = {};
    for (const [name, source] of Object.entries(node.assign)) setOwn(values, name, (await context.evaluate(source)) ?? null);
    return { type: 'continue', next: node.next, output: values, vars: values };
  },
};
