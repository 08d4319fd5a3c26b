import { envelopeProblem, type ExecutionEvent } from '@ussd/execution-domain';

/**
 * The wire format of execution events in the Redis Stream (docs/architecture.md, "Execution events"):
 * one entry per event, one field `event` holding the envelope as JSON. The producer (api)
 * appends with XADD; the log-ingester reads it through a consumer group.
 */
export const EVENT_FIELD = 'event';

/** The dead-letter stream beside an event stream: entries that could not be ingested, with the reason. */
export function deadLetterStreamKey(streamKey: string): string {
  return `${streamKey}:dead-letters`;
}

export function encodeStreamEvent(event: ExecutionEvent): string {
  return JSON.stringify(event);
}

/** What one stream entry turned out to be: an event, or the reason it is unusable (dead-letter it). */
export type DecodedEntry = { readonly id: string; readonly event: ExecutionEvent; readonly raw: string } | { readonly id: string; readonly problem: string; readonly raw: string };

/** Largest event accepted from the stream; the producer caps outputs far below this. */
const MAX_EVENT_BYTES = 8 * 1024 * 1024;

export function decodeStreamEntry(id: string, fields: readonly string[] | null): DecodedEntry {
  if (!fields) return { id, problem: 'entry has no fields', raw: '' };
  let raw: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) if (fields[i] === EVENT_FIELD) raw = fields[i + 1];
  if (raw === undefined) return { id, problem: `entry has no "${EVENT_FIELD}" field`, raw: JSON.stringify(fields).slice(0, 65_536) };
  if (raw.length > MAX_EVENT_BYTES) return { id, problem: `event is larger than ${MAX_EVENT_BYTES} bytes`, raw: raw.slice(0, 65_536) };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return { id, problem: `event is not JSON: ${(error as Error).message.slice(0, 200)}`, raw };
  }
  const problem = envelopeProblem(value);
  return problem === undefined ? { id, event: value as ExecutionEvent, raw } : { id, problem: `invalid event: ${problem}`, raw };
}

/** Stream entry ids: `<ms>-<seq>`. */
export const STREAM_ID = /^\d{1,20}-\d{1,20}$/;

/** Orders two stream ids (-1, 0, 1). */
export function compareStreamIds(a: string, b: string): number {
  const [am = '0', as = '0'] = a.split('-');
  const [bm = '0', bs = '0'] = b.split('-');
  const ms = BigInt(am) - BigInt(bm);
  if (ms !== 0n) return ms < 0n ? -1 : 1;
  const seq = BigInt(as) - BigInt(bs);
  return seq === 0n ? 0 : seq < 0n ? -1 : 1;
}
