import type { DelayNode } from '@ussd/workflow-domain';
import { isRecord } from '../json.js';
import type { NodeHandler, NodeResult } from '../node-handler.js';

const waitUntil = (resumeAt: number): NodeResult => ({ type: 'suspend', waitingFor: 'time', resumeAt, state: { resumeAt } });

/**
 * Short delays are slept inline (a worker holding an execution for a second is cheaper than a
 * round trip through storage); longer ones pause with `waitingFor: 'time'`, and the caller
 * resumes them with a timer at `resumeAt`.
 */
export const delayHandler: NodeHandler<DelayNode> = {
  async run(node, context) {
    if (node.durationMs <= context.maxInlineDelayMs) {
      await context.clock.sleep(node.durationMs, context.signal);
      return { type: 'continue', next: node.next, output: null };
    }
    return waitUntil(context.clock.now() + node.durationMs);
  },
  async resume(node, context, _wake, state) {
    const resumeAt = isRecord(state) && typeof state['resumeAt'] === 'number' ? state['resumeAt'] : 0;
    // Early wake-ups (a reply during the delay, an early timer) wait again.
    if (context.clock.now() < resumeAt) return waitUntil(resumeAt);
    return { type: 'continue', next: node.next, output: null };
  },
};
