import { NODE_ERROR_CODES, type InputValidation, type UssdInputNode } from '@ussd/workflow-domain';
import { isTruthy } from '../json.js';
import type { NodeContext, NodeHandler, NodeResult } from '../node-handler.js';
import { NodeError } from '../node-error.js';
import { readPromptState, withError } from './ussd-prompt.js';

const DEFAULT_ERROR_TEXT = 'Invalid input.';
const patterns = new Map<string, RegExp>();

/** The whole answer must match, as the spec says, hence the anchors around the author's pattern. */
function wholeMatch(pattern: string): RegExp {
  let regex = patterns.get(pattern);
  if (regex === undefined) {
    if (patterns.size >= 1000) patterns.clear();
    regex = new RegExp(`^(?:${pattern})$`, 'u');
    patterns.set(pattern, regex);
  }
  return regex;
}

async function isValid(value: string, validation: InputValidation | undefined, context: NodeContext): Promise<boolean> {
  if (validation === undefined) return true;
  const length = [...value].length;
  if (validation.minLength !== undefined && length < validation.minLength) return false;
  if (validation.maxLength !== undefined && length > validation.maxLength) return false;
  if (validation.pattern !== undefined) {
    let regex: RegExp;
    try {
      regex = wholeMatch(validation.pattern);
    } catch (error) {
      throw new NodeError(NODE_ERROR_CODES.expression, `validation pattern does not compile: ${String(error)}`);
    }
    if (!regex.test(value)) return false;
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
