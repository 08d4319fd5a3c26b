import type { SwitchNode } from '@ussd/workflow-domain';
import { isTruthy } from '../json.js';
import type { NodeHandler } from '../node-handler.js';

/** The first case whose `when` is truthy (JSONata's `$boolean`) wins; otherwise `default`. */
export const switchHandler: NodeHandler<SwitchNode> = {
  async run(node, context) {
    for (const branch of node.cases) {
      if (isTruthy(await context.evaluate(branch.when))) return { type: 'continue', next: branch.next, output: { next: branch.next } };
    }
    return { type: 'continue', next: node.default, output: { next: node.default } };
  },
};
