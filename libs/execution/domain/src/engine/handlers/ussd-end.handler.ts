import type { UssdEndNode } from '@ussd/workflow-domain';
import type { NodeHandler } from '../node-handler.js';

/** The final USSD message; on an HTTP execution it simply completes with `{ text }`. */
export const ussdEndHandler: NodeHandler<UssdEndNode> = {
  async run(node, context) {
    const text = await context.render(node.text);
    return { type: 'complete', output: { text }, message: text };
  },
};
