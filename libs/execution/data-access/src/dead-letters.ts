import type { Redis } from 'ioredis';
import { deadLetterStreamKey, EVENT_FIELD, STREAM_ID } from './event-stream.js';

export interface DeadLetter {
  /** Id in the dead-letter stream (what `redrive` and `delete` take). */
  readonly id: string;
  /** Id the entry had in the event stream. */
  readonly sourceId: string;
  readonly error: string;
  readonly failures: number;
  readonly consumer: string;
  readonly deadAt: string;
  /** The event as it was in the stream (JSON text, possibly malformed). */
  readonly event: string;
}

function toDeadLetter(id: string, fields: readonly string[]): DeadLetter {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(String(fields[i]), String(fields[i + 1]));
  return {
    id,
    sourceId: f.get('sourceId') ?? '',
    error: f.get('error') ?? '',
    failures: Number(f.get('failures') ?? 0),
    consumer: f.get('consumer') ?? '',
    deadAt: f.get('deadAt') ?? '',
    event: f.get('event') ?? '',
  };
}

/** Oldest first; `after` pages on (exclusive). */
export async function listDeadLetters(redis: Redis, streamKey: string, options: { limit: number; after?: string }): Promise<DeadLetter[]> {
  if (options.after !== undefined && !STREAM_ID.test(options.after)) throw new RangeError(`not a stream entry id: ${JSON.stringify(options.after.slice(0, 60))}`);
  const rows = (await redis.xrange(deadLetterStreamKey(streamKey), options.after === undefined ? '-' : `(${options.after}`, '+', 'COUNT', options.limit)) as [string, string[]][];
  return rows.map(([id, fields]) => toDeadLetter(id, fields));
}

/** Appends the dead letter's event to the stream again and removes it from the dead letters, atomically. */
const REDRIVE_SCRIPT = `
local rows = redis.call('XRANGE', KEYS[2], ARGV[1], ARGV[1])
if #rows == 0 then return 0 end
local fields = rows[1][2]
local event = nil
for i = 1, #fields, 2 do if fields[i] == 'event' then event = fields[i + 1] end end
if event == nil then return -1 end
redis.call('XADD', KEYS[1], '*', ARGV[2], event)
redis.call('XDEL', KEYS[2], ARGV[1])
return 1`;

export interface RedriveResult {
  readonly redriven: string[];
  readonly missing: string[];
}

/**
 * Puts dead letters back on the event stream (the same event, so the eventId keeps ingestion
 * idempotent) and removes them from the dead letters. `ids` are dead-letter ids; 'all' takes
 * every one present when called. A letter that fails again is dead-lettered again.
 */
export async function redriveDeadLetters(redis: Redis, streamKey: string, ids: readonly string[] | 'all'): Promise<RedriveResult> {
  const list = ids === 'all' ? await allIds(redis, streamKey) : ids;
  const bad = list.find((id) => !STREAM_ID.test(id));
  if (bad !== undefined) throw new RangeError(`not a stream entry id: ${JSON.stringify(bad.slice(0, 60))}`);
  const redriven: string[] = [];
  const missing: string[] = [];
  for (const id of list) {
    const moved = (await redis.eval(REDRIVE_SCRIPT, 2, streamKey, deadLetterStreamKey(streamKey), id, EVENT_FIELD)) as number;
    (moved === 1 ? redriven : missing).push(id);
  }
  return { redriven, missing };
}

/** Removes dead letters for good (an event that can never be written). */
export async function deleteDeadLetters(redis: Redis, streamKey: string, ids: readonly string[]): Promise<RedriveResult> {
  const bad = ids.find((id) => !STREAM_ID.test(id));
  if (bad !== undefined) throw new RangeError(`not a stream entry id: ${JSON.stringify(bad.slice(0, 60))}`);
  const redriven: string[] = [];
  const missing: string[] = [];
  for (const id of ids) ((await redis.xdel(deadLetterStreamKey(streamKey), id)) === 1 ? redriven : missing).push(id);
  return { redriven, missing };
}

async function allIds(redis: Redis, streamKey: string): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await listDeadLetters(redis, streamKey, { limit: 500, ...(after ? { after } : {}) });
    if (page.length === 0) return ids;
    ids.push(...page.map((l) => l.id));
    after = page[page.length - 1]?.id;
  }
}

export interface StreamStats {
  /** Entries in the stream (acknowledged ones are kept until trimmed). */
  readonly length: number;
  /** Delivered to a consumer of the group and not yet acknowledged. */
  readonly pending: number;
  /** Entries not yet delivered to the group (null when Redis cannot tell, e.g. after XDEL). */
  readonly lag: number | null;
  readonly consumers: number;
  readonly deadLetters: number;
}

/** The figures /metrics reports, read in one round trip. */
export async function streamStats(redis: Redis, streamKey: string, group: string): Promise<StreamStats> {
  const results = (await redis.pipeline().xlen(streamKey).exists(streamKey).xlen(deadLetterStreamKey(streamKey)).exec()) ?? [];
  const failed = results.find(([error]) => error);
  if (failed) throw failed[0];
  const [length, groups, deadLetters] = results.map(([, value]) => Number(value)) as [number, number, number];
  let info: unknown[] = [];
  if (groups === 1) info = (await redis.xinfo('GROUPS', streamKey)) as unknown[];
  for (const g of info as unknown[][]) {
    const fields = new Map<string, unknown>();
    for (let i = 0; i + 1 < g.length; i += 2) fields.set(String(g[i]), g[i + 1]);
    if (fields.get('name') === group) {
      const lag = fields.get('lag');
      return { length, pending: Number(fields.get('pending') ?? 0), lag: lag === null || lag === undefined ? null : Number(lag), consumers: Number(fields.get('consumers') ?? 0), deadLetters };
    }
  }
  return { length, pending: 0, lag: length, consumers: 0, deadLetters };
}
