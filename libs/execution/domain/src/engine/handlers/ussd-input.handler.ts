import { NODE_ERROR_CODES, wholeMatchTester, type InputValidation, type UssdInputNode } from '@ussd/workflow-domain';
import { isTruthy } from '../json.js';
import type { NodeContext, NodeHandler, NodeResult } from '../node-handler.js';
import { errorMessage, NodeError } from '../node-error.js';
import { readPromptState, withError } from './ussd-prompt.js';

const DEFAULT_ERROR_TEXT = 'Invalid input.';

async function isValid(value: string, validation: InputValidation | undefined, context: NodeContext): Promise<boolean> {
  if (validation === undefined) return true;
  const length = [...value].length;
  if (validation.minLength !== undefined && length < validation.minLength) return false;
  if (validation.maxLength !== undefined && length > validation.maxLength) return false;
  if (validation.pattern !== undefined) {
    // RE2 (linear time; compiled once per process): the whole answer must match.
    let matches: (value: string) => boolean;
    try {
      matches = wholeMatchTester(validation.pattern);
    } catch (error) {
      throw new NodeError(NODE_ERROR_CODES.expression, `validation pattern cannot run: ${errorMessage(error)}`);
    }
    if (!matches(value)) return false;
  }
  if (validation.expression !== undefined) return isTruthy(await context.evaluate(validation.expression, { value }));
  return true;
}

const suspend = (text: string, invalid: number): NodeResult => ({ type: 'suspend', waitingFor: 'input', prompt: { kind: 'input', text }, state: { invalid, text } });

/** Shows the prompt, validates the reply and stores it (a string) in `variable`. */
export const ussdInputHandler: NodeHandler<UssdInputNode> = {
  async run(node, context) {
    return suspend(await context.render(node.prompt), 0);
  },
  async resume(node, context, wake, state) {
    const { invalid, text } = readPromptState(state);
    if (wake.kind === 'timer') return suspend(text, invalid);
    const value = wake.text.trim();
    if (await isValid(value, node.validation, context)) {
      return { type: 'continue', next: node.next, output: { value }, vars: { [node.variable]: value } };
    }
    const count = invalid + 1;
    if (node.maxInvalidAttempts !== undefined && count >= node.maxInvalidAttempts) {
      throw new NodeError(NODE_ERROR_CODES.invalidInput, `${count} invalid answers at input '${node.id}'`, { lastReply: value.slice(0, 182) });
    }
    const error = await context.render(node.errorText ?? DEFAULT_ERROR_TEXT);
    return suspend(withError(error, await context.render(node.prompt)), count);
  },
};
