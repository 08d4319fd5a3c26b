import { NODE_ERROR_CODES, type UssdMenuNode } from '@ussd/workflow-domain';
import type { NodeContext, NodeHandler, NodeResult } from '../node-handler.js';
import { NodeError } from '../node-error.js';
import { readPromptState, withError } from './ussd-prompt.js';

const DEFAULT_INVALID_TEXT = 'Invalid choice.';

async function renderMenu(node: UssdMenuNode, context: NodeContext): Promise<string> {
  const lines = [await context.render(node.text)];
  for (const option of node.options) lines.push(`${option.key}. ${await context.render(option.label)}`);
  return lines.join('\n');
}

const suspend = (text: string, invalid: number): NodeResult => ({
  type: 'suspend',
  waitingFor: 'input',
  prompt: { kind: 'menu', text },
  state: { invalid, text },
});

/** Shows the menu, then follows the option whose key is the reply; anything else re-prompts. */
export const ussdMenuHandler: NodeHandler<UssdMenuNode> = {
  async run(node, context) {
    return suspend(await renderMenu(node, context), 0);
  },
  async resume(node, context, wake, state) {
    const { invalid, text } = readPromptState(state);
    // A timer before the wait expired (the engine handles expiry): keep waiting.
    if (wake.kind === 'timer') return suspend(text, invalid);
    const key = wake.text.trim();
    const option = node.options.find((candidate) => candidate.key === key);
    if (option !== undefined) {
      return { type: 'continue', next: option.next, output: { key }, ...(node.variable === undefined ? {} : { vars: { [node.variable]: key } }) };
    }
    const count = invalid + 1;
    if (node.maxInvalidAttempts !== undefined && count >= node.maxInvalidAttempts) {
      throw new NodeError(NODE_ERROR_CODES.invalidChoice, `${count} invalid choices at menu '${node.id}'`, { lastReply: wake.text.slice(0, 182) });
    }
    const error = await context.render(node.invalidText ?? DEFAULT_INVALID_TEXT);
    return suspend(withError(error, await renderMenu(node, context)), count);
  },
};
