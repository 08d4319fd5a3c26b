import type { JsonValue } from '@ussd/workflow-domain';
import { isRecord } from '../json.js';

/** What menus and inputs keep while suspended: invalid replies so far, and the text shown. */
export interface PromptState {
  readonly invalid: number;
  readonly text: string;
}

export function readPromptState(state: JsonValue): PromptState {
  if (isRecord(state) && Number.isSafeInteger(state['invalid']) && typeof state['text'] === 'string') {
    return { invalid: state['invalid'] as number, text: state['text'] };
  }
  return { invalid: 0, text: '' };
}

/** The re-prompt: the error line above the original prompt. */
export const withError = (error: string, text: string) => (error === '' ? text : `${error}\n${text}`);
