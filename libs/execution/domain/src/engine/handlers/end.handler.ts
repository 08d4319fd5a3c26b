import type { EndNode } from '@ussd/workflow-domain';
import type { NodeHandler } from '../node-handler.js';

/** Completes with `output` (absent, or yielding nothing: null) and an empty USSD message. */
export const endHandler: NodeHandler<EndNode> = {
  async run(node, context) {
    const output = node.output === undefined ? null : ((await context.evaluate(node.output)) ?? null);
    return { type: 'complete', output, message: '' };
  },
};
