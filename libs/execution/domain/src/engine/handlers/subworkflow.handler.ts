import { NODE_ERROR_CODES, type JsonValue, type SubworkflowNode } from '@ussd/workflow-domain';
import type { EngineResult } from '../engine.types.js';
import { isRecord, toJsonOrNull } from '../json.js';
import type { NodeHandler, NodeResult } from '../node-handler.js';
import { NodeError } from '../node-error.js';

/**
 * Maps the child's end to this node. A child's failure keeps its code (a `fail` node's code,
 * `subworkflow.not_found`, …) so the parent can catch it; a child that timed out raises
 * `node.timeout` here, because for the parent it is this node that took too long. A child
 * that pauses (a menu inside it) pauses the parent, its continuation nested in this node's state.
 */
function fromChild(node: SubworkflowNode, result: EngineResult): NodeResult {
  switch (result.status) {
    case 'completed':
      return { type: 'continue', next: node.next, output: toJsonOrNull(result.output) };
    case 'paused':
      return {
        type: 'suspend',
        waitingFor: result.waitingFor,
        ...(result.resumeAt === undefined ? {} : { resumeAt: Date.parse(result.resumeAt) }),
        ...(result.prompt === undefined ? {} : { prompt: result.prompt }),
        state: { child: result.continuation as unknown as JsonValue },
      };
    case 'timeout':
      throw new NodeError(NODE_ERROR_CODES.timeout, `subworkflow ${node.workflowId} timed out: ${result.error.message}`, { child: result.error });
    case 'failed':
    case 'canceled':
      throw new NodeError(result.error.code, result.error.message, { child: result.error });
  }
}

const childOf = (state: JsonValue): JsonValue => (isRecord(state) ? (state['child'] as JsonValue | undefined) : undefined) ?? null;

export const subworkflowHandler: NodeHandler<SubworkflowNode> = {
  async run(node, context) {
    const input = node.input === undefined ? null : ((await context.evaluate(node.input)) ?? null);
    const ref = { workflowId: node.workflowId, ...(node.version === undefined ? {} : { version: node.version }) };
    return fromChild(node, await context.subworkflows.start(ref, input, context.signal));
  },
  async resume(node, context, wake, state) {
    return fromChild(node, await context.subworkflows.resume(childOf(state), wake, context.signal));
  },
  async abandon(_node, context, state, reason) {
    await context.subworkflows.cancel(childOf(state), reason);
  },
};
