import type { Continuation } from '@ussd/execution-domain';
import type { UssdReply } from '@ussd/ussd-domain';

/**
 * What a USSD session keeps in its `data` between hops. The seed's `SessionState` fields stay
 * exactly as designed; the conversation lives inside `data`:
 * - the pinned workflow version (the session runs it to the end, whatever is published meanwhile),
 * - the paused execution's engine continuation,
 * - the screen on display, split into pages when it is longer than one USSD screen,
 * - the last hop's key and reply, so a gateway's retry gets a byte-identical answer.
 */
export interface Conversation {
  readonly v: 1;
  readonly gateway: string;
  readonly serviceCode: string;
  readonly workflowId: string;
  readonly version: number;
  readonly environment: string;
  readonly executionId: string;
  /** Null once the execution has ended. */
  readonly continuation: Continuation | null;
  /** The pages of the screen on display, which one is shown, and whether it is the workflow's final screen. */
  readonly screen: { readonly pages: readonly string[]; readonly page: number; readonly final: boolean } | null;
  readonly lastHop: { readonly key: string; readonly reply: UssdReply };
  /** Hops answered so far. */
  readonly hops: number;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function isReply(value: unknown): value is UssdReply {
  return isRecord(value) && (value['kind'] === 'continue' || value['kind'] === 'end') && typeof value['text'] === 'string';
}

/**
 * Reads `data` back from the store. Anything else than what `Conversation` says (a session
 * written by something else, a tampered value) is refused: the hop then ends politely rather
 * than resuming on garbage. The continuation itself is checked by the engine on resume.
 */
export function readConversation(data: Readonly<Record<string, unknown>>): Conversation | undefined {
  const d = data;
  if (d['v'] !== 1) return undefined;
  for (const key of ['gateway', 'serviceCode', 'workflowId', 'environment', 'executionId'] as const) if (typeof d[key] !== 'string') return undefined;
  if (!Number.isSafeInteger(d['version']) || !Number.isSafeInteger(d['hops'])) return undefined;
  if (d['continuation'] !== null && !isRecord(d['continuation'])) return undefined;
  const screen = d['screen'];
  if (screen !== null) {
    if (!isRecord(screen) || !Array.isArray(screen['pages']) || !screen['pages'].every((p) => typeof p === 'string')) return undefined;
    if (!Number.isSafeInteger(screen['page']) || (screen['page'] as number) < 0 || (screen['page'] as number) >= screen['pages'].length) return undefined;
    if (typeof screen['final'] !== 'boolean') return undefined;
  }
  const lastHop = d['lastHop'];
  if (!isRecord(lastHop) || typeof lastHop['key'] !== 'string' || !isReply(lastHop['reply'])) return undefined;
  return d as unknown as Conversation;
}
