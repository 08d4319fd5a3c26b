import type { FailNode } from '@ussd/workflow-domain';
import type { NodeHandler } from '../node-handler.js';

/** Ends the execution as failed with the node's code; no retry or catch sees it (by design of the spec). */
export const failHandler: NodeHandler<FailNode> = {
  async run(node, context) {
    const message = node.message === undefined ? `reached fail node '${node.id}'` : await context.render(node.message);
    return { type: 'fail', code: node.error, message };
  },
};
