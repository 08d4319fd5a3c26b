import type { Redis } from 'ioredis';
import type { ExecutionEvent } from '@ussd/execution-domain';
import { consumerHeartbeatKey } from './consumer-heartbeat.js';
import { compareStreamIds, type DecodedEntry, deadLetterStreamKey, decodeStreamEntry } from './event-stream.js';
import type { IngestResult } from './execution-log.ingestor.js';

/** The subset of a pino logger the consumer uses. */
export interface ConsumerLogger {
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

/** What the consumer reports, for metrics. */
export interface ConsumerObserver {
  /** A batch was committed and acknowledged. */
  batchWritten?(info: { readonly entries: number; readonly result: IngestResult; readonly seconds: number; readonly events: readonly ExecutionEvent[] }): void;
  deadLettered?(count: number): void;
  /** A write failed; `transient` ones are retried with backoff, the others isolate the poison entry. */
  writeFailed?(transient: boolean): void;
}

export interface EventStreamConsumerOptions {
  readonly streamKey: string;
  readonly group: string;
  readonly consumer: string;
  readonly batchSize: number;
  readonly blockMs: number;
  /** Entries pending this long at another consumer are claimed (it died). */
  readonly claimIdleMs: number;
  /** Failures (or deliveries without acknowledgement) before an entry is dead-lettered. */
  readonly maxDeliveries: number;
  /** Once the stream is longer than this, acknowledged entries are trimmed. */
  readonly maxLength: number;
  /** Writes a batch in one transaction, idempotently (ExecutionLogIngestor.ingest). */
  readonly ingest: (events: readonly ExecutionEvent[]) => Promise<IngestResult>;
  readonly logger: ConsumerLogger;
  readonly observer?: ConsumerObserver;
  /**
   * Every consumer of the group keeps a heartbeat (ConsumerHeartbeat) that expires after this
   * long. When set, this consumer takes the pending entries of consumers whose heartbeat is gone
   * at once, and removes them from the group once they hold none. Unset: no removal (and
   * entries of dead consumers wait claimIdleMs).
   */
  readonly heartbeatTtlMs?: number;
  /** Between two looks for dead consumers (default 1000). */
  readonly reapEveryMs?: number;
  /** Longest backoff between retries while PostgreSQL or Redis is down. */
  readonly maxBackoffMs?: number;
}

type Entry = Extract<DecodedEntry, { event: ExecutionEvent }>;

/**
 * Dead-letters an entry only if it is still pending in the group (so two replicas never
 * dead-letter it twice): XADD to the dead-letter stream, then XACK, atomically.
 */
const DEAD_LETTER_SCRIPT = `
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if #pending == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'sourceId', ARGV[2], 'event', ARGV[3], 'error', ARGV[4], 'failures', ARGV[5], 'consumer', ARGV[6], 'group', ARGV[1], 'deadAt', ARGV[7])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/**
 * Trims acknowledged entries once the stream is longer than ARGV[1]: everything older than
 * the oldest entry some group has not acknowledged (its oldest pending entry, or the first it
 * has not been delivered). Without any group nothing is trimmed. Whole radix-tree nodes (~),
 * so it is cheap; never an unacknowledged entry.
 */
const TRIM_SCRIPT = `
local key = KEYS[1]
if redis.call('XLEN', key) <= tonumber(ARGV[1]) then return 0 end
local groups = redis.call('XINFO', 'GROUPS', key)
if #groups == 0 then return 0 end
local function parse(id) local ms, seq = string.match(id, '^(%d+)-(%d+)$') return tonumber(ms), tonumber(seq) end
local safeMs, safeSeq = nil, nil
for _, g in ipairs(groups) do
  local info = {}
  for i = 1, #g, 2 do info[g[i]] = g[i + 1] end
  local ms, seq
  if tonumber(info['pending']) > 0 then
    ms, seq = parse(redis.call('XPENDING', key, info['name'])[2])
  else
    ms, seq = parse(info['last-delivered-id'])
    seq = seq + 1
  end
  if safeMs == nil or ms < safeMs or (ms == safeMs and seq < safeSeq) then safeMs, safeSeq = ms, seq end
end
return redis.call('XTRIM', key, 'MINID', '~', string.format('%.0f-%.0f', safeMs, safeSeq))`;

/**
 * Takes over a dead consumer (KEYS[2], its heartbeat, is gone): claims up to ARGV[4] of its
 * pending entries for ARGV[3] and returns them; once it holds none, removes it from the group.
 * Atomic, so two replicas never claim the same entries twice, and a consumer that holds entries
 * is never removed (they would leave the PEL unacknowledged). A process that starts writes its
 * heartbeat before its first read, so a consumer coming back is never taken.
 */
const REAP_SCRIPT = `
if redis.call('EXISTS', KEYS[2]) == 1 then return {0} end
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', tonumber(ARGV[4]), ARGV[2])
if #pending == 0 then
  redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
  return {1}
end
local ids = {}
for i, p in ipairs(pending) do ids[i] = p[1] end
return {2, redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[3], 0, unpack(ids))}`;

/** Entries claimed per REAP_SCRIPT call (Lua's unpack has a limit). */
const REAP_BATCH = 1000;

const DATA_ERROR_CLASSES = new Set(['22', '23']);

/** A PostgreSQL error caused by the data of one entry (bad value, constraint): retrying the same batch cannot help. */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && DATA_ERROR_CLASSES.has(code.slice(0, 2));
}

/**
 * The log-ingester's loop over a Redis Stream consumer group:
 *
 * 1. at start, re-reads this consumer's own pending entries (a restart with the same name);
 * 2. reads new entries in batches (XREADGROUP >, BLOCK), and every claimIdleMs/2 claims
 *    entries another consumer left pending longer than claimIdleMs (XAUTOCLAIM);
 * 3. writes each batch in one transaction, then XACKs: only after the commit, so a crash in
 *    between re-delivers the batch, and idempotent ingestion writes it once;
 * 4. PostgreSQL down: the batch stays in hand (pending), retried with backoff until it
 *    commits; the entries' idle time is refreshed so other replicas do not steal them;
 * 5. a batch that fails on its data is split until the failing entry is alone; that entry
 *    is retried with backoff beside the stream, and after maxDeliveries failures it goes to
 *    the dead-letter stream (with the error) and is acknowledged. An entry that cannot be
 *    decoded is dead-lettered at once: retrying cannot help.
 * 6. stop(): finishes the batch in hand (commit and XACK), then returns.
 *
 * The redis client must be its own connection: XREADGROUP BLOCK holds it.
 */
export class EventStreamConsumer {
  private stopping = false;
  private readonly wake = new AbortController();
  private running: Promise<void> | undefined;
  private readonly retries = new Map<string, { entry: Entry; failures: number; dueAt: number }>();
  private inHand: readonly string[] = [];
  private nextClaimAt = 0;
  private claimCursor = '0-0';
  private nextTrimAt = 0;
  private nextRefreshAt = 0;
  private groupReady = false;
  private nextReapAt = 0;
  private failingSince: number | undefined;
  private lastError: string | undefined;
  private readonly deadLetterKey: string;

  constructor(
    private readonly redis: Redis,
    private readonly options: EventStreamConsumerOptions,
  ) {
    this.deadLetterKey = deadLetterStreamKey(options.streamKey);
  }

  /** Healthy unless writes or reads have been failing (since when, and why). */
  get health(): { readonly healthy: boolean; readonly failingSince?: Date; readonly lastError?: string } {
    return this.failingSince === undefined ? { healthy: true } : { healthy: false, failingSince: new Date(this.failingSince), ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  start(): void {
    this.running ??= this.loop();
  }

  /** Finishes the batch in hand (commit and XACK), then resolves. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake.abort();
    await this.running;
  }

  private async loop(): Promise<void> {
    let ownCursor: string | undefined = '0';
    /**
     * The batch being written while the next one is read: reading (and decoding) batch N+1
     * overlaps the transaction of batch N, so PostgreSQL is kept busy. Only one batch is ever
     * written at a time, and each is acknowledged after its own commit.
     */
    let writing: Promise<void> | undefined;
    const settleWrite = async () => {
      const pending = writing;
      writing = undefined;
      await pending;
    };
    while (!this.stopping) {
      try {
        if (!this.groupReady) await this.ensureGroup();
        if (ownCursor !== undefined) {
          const entries = await this.readOwnPending(ownCursor);
          ownCursor = entries.at(-1)?.id;
          if (entries.length > 0) await this.handle(entries, true);
          this.healthy();
          continue;
        }
        await settleWrite();
        await this.retryDue();
        if (this.options.heartbeatTtlMs !== undefined && Date.now() >= this.nextReapAt) {
          const taken = await this.reap(this.options.heartbeatTtlMs);
          if (taken.length > 0) await this.handle(taken, true);
          this.healthy();
          if (taken.length > 0) continue;
        }
        if (Date.now() >= this.nextClaimAt) {
          const claimed = await this.claim();
          if (claimed.length > 0) await this.handle(claimed, true);
          this.healthy();
          if (claimed.length > 0) continue;
        }
        let entries = await this.readNew();
        while (entries.length > 0 && !this.stopping) {
          this.readAhead = entries.map((e) => e.id);
          await settleWrite();
          this.readAhead = [];
          writing = this.handle(entries, false);
          writing.catch(() => undefined); // observed by settleWrite; never an unhandled rejection meanwhile
          entries = this.retries.size > 0 || Date.now() >= this.nextClaimAt || (this.options.heartbeatTtlMs !== undefined && Date.now() >= this.nextReapAt) ? [] : await this.readNew(true);
        }
        if (entries.length > 0) await this.handle(entries, false); // stopping: finish what was read
        await settleWrite();
        this.healthy();
        await this.trim();
      } catch (error) {
        await settleWrite().catch(() => undefined);
        this.readAhead = [];
        if (isNoGroup(error)) this.groupReady = false;
        this.unhealthy(error, 'reading the event stream failed; retrying');
        await this.sleep(this.backoff());
      }
    }
    await settleWrite().catch(() => undefined);
  }

  /** Entries read while the previous batch is still being written (kept from being claimed as idle too). */
  private readAhead: readonly string[] = [];

  private async ensureGroup(): Promise<void> {
    try {
      // From 0: entries appended before the first ingester started are not skipped.
      await this.redis.xgroup('CREATE', this.options.streamKey, this.options.group, '0', 'MKSTREAM');
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw error;
    }
    this.groupReady = true;
  }

  private async readOwnPending(cursor: string): Promise<DecodedEntry[]> {
    const reply = (await this.redis.xreadgroup('GROUP', this.options.group, this.options.consumer, 'COUNT', this.options.batchSize, 'STREAMS', this.options.streamKey, cursor)) as
      | [string, [string, string[] | null][]][]
      | null;
    const items = reply?.[0]?.[1] ?? [];
    return this.decode(items);
  }

  /** `noWait`: while a batch is being written, only what is already there (no BLOCK: its XACK shares this connection). */
  private async readNew(noWait = false): Promise<DecodedEntry[]> {
    const nextRetry = Math.min(...[...this.retries.values()].map((r) => r.dueAt));
    const nextReap = this.options.heartbeatTtlMs === undefined ? Infinity : this.nextReapAt - Date.now();
    const block = Math.max(1, Math.min(this.options.blockMs, this.nextClaimAt - Date.now(), nextReap, Number.isFinite(nextRetry) ? nextRetry - Date.now() : Infinity));
    const wait = noWait ? [] : ['BLOCK', Math.round(block)];
    const reply = (await this.redis.xreadgroup(
      'GROUP',
      this.options.group,
      this.options.consumer,
      'COUNT',
      this.options.batchSize,
      ...(wait as ['BLOCK', number]),
      'STREAMS',
      this.options.streamKey,
      '>',
    )) as [string, [string, string[] | null][]][] | null;
    return this.decode(reply?.[0]?.[1] ?? []);
  }

  /** Entries other consumers left pending longer than claimIdleMs (they died). */
  private async claim(): Promise<DecodedEntry[]> {
    const reply = (await this.redis.xautoclaim(
      this.options.streamKey,
      this.options.group,
      this.options.consumer,
      this.options.claimIdleMs,
      this.claimCursor,
      'COUNT',
      this.options.batchSize,
    )) as [string, [string, string[] | null][], string[]?];
    this.claimCursor = reply[0];
    if (this.claimCursor === '0-0') this.nextClaimAt = Date.now() + Math.max(500, this.options.claimIdleMs / 2);
    const items = reply[1].filter(([id]) => !this.retries.has(id));
    if (items.length > 0) this.options.logger.info({ count: items.length, first: items[0]?.[0] }, 'claimed entries another consumer left pending');
    return this.decode(items);
  }

  /**
   * Consumers of the group other than this one that have been idle at least `ttlMs` and have
   * no heartbeat: their pending entries are claimed here (returned, to be written) and, once
   * they hold none, they are removed from the group (XGROUP DELCONSUMER).
   */
  private async reap(ttlMs: number): Promise<DecodedEntry[]> {
    this.nextReapAt = Date.now() + (this.options.reapEveryMs ?? 1000);
    const consumers = ((await this.redis.xinfo('CONSUMERS', this.options.streamKey, this.options.group)) as unknown[][]).map(
      (fields) => Object.fromEntries(Array.from({ length: fields.length / 2 }, (_, i) => [String(fields[2 * i]), fields[2 * i + 1]])) as { name: string; pending: number; idle: number },
    );
    const candidates = consumers.filter((c) => c.name !== this.options.consumer && Number(c.idle) >= ttlMs);
    if (candidates.length === 0) return [];
    const keys = candidates.map((c) => consumerHeartbeatKey(this.options.streamKey, this.options.group, c.name));
    const alive = (await this.redis.exists(...keys)) as number;
    if (alive === candidates.length) return [];
    const taken: [string, string[] | null][] = [];
    for (const [i, candidate] of candidates.entries()) {
      if (taken.length >= this.options.batchSize) {
        this.nextReapAt = 0; // more next turn, after this batch is written
        break;
      }
      const reply = (await this.redis.eval(
        REAP_SCRIPT,
        2,
        this.options.streamKey,
        keys[i] as string,
        this.options.group,
        candidate.name,
        this.options.consumer,
        String(Math.min(REAP_BATCH, this.options.batchSize - taken.length)),
      )) as [0] | [1] | [2, [string, string[] | null][]];
      if (reply[0] === 1) this.options.logger.info({ consumer: candidate.name }, 'removed a dead consumer from the group (no heartbeat, nothing pending)');
      if (reply[0] === 2) {
        const items = reply[1].filter(([id]) => !this.retries.has(id));
        this.options.logger.info({ consumer: candidate.name, count: items.length, first: items[0]?.[0] }, 'took the pending entries of a dead consumer (no heartbeat)');
        taken.push(...items);
        this.nextReapAt = 0; // it may hold more; it is removed once it holds none
      }
    }
    return this.decode(taken);
  }

  private async decode(items: [string, string[] | null][]): Promise<DecodedEntry[]> {
    // An entry trimmed or deleted while pending has no fields: nothing to write, acknowledge it.
    const gone = items.filter(([, fields]) => fields === null).map(([id]) => id);
    if (gone.length > 0) await this.redis.xack(this.options.streamKey, this.options.group, ...gone);
    return items.filter(([, fields]) => fields !== null).map(([id, fields]) => decodeStreamEntry(id, fields));
  }

  /** One batch: dead-letter what is unusable, write the rest (commit, then XACK). */
  private async handle(entries: DecodedEntry[], redelivered: boolean): Promise<void> {
    this.inHand = entries.map((e) => e.id);
    try {
      const deliveries = redelivered ? await this.deliveryCounts(entries) : new Map<string, number>();
      const good: Entry[] = [];
      for (const entry of entries) {
        const delivered = deliveries.get(entry.id) ?? 1;
        if ('problem' in entry) await this.deadLetter(entry.id, entry.raw, entry.problem, 1);
        else if (delivered > this.options.maxDeliveries) await this.deadLetter(entry.id, entry.raw, `delivered ${delivered} times without being acknowledged (the consumers handling it stopped)`, delivered - 1);
        else good.push(entry);
      }
      for (const entry of good) {
        const prior = (deliveries.get(entry.id) ?? 1) - 1;
        if (prior > 0) this.priorFailures.set(entry.id, prior);
      }
      if (good.length > 0) await this.write(good);
    } finally {
      this.inHand = [];
    }
  }

  private readonly priorFailures = new Map<string, number>();

  private async deliveryCounts(entries: readonly DecodedEntry[]): Promise<Map<string, number>> {
    if (entries.length === 0) return new Map();
    const ids = entries.map((e) => e.id).sort(compareStreamIds);
    const [first = '-', last = '+'] = [ids[0], ids[ids.length - 1]];
    const rows = (await this.redis.xpending(this.options.streamKey, this.options.group, first, last, ids.length + this.retries.size, this.options.consumer)) as [string, string, number, number][];
    return new Map(rows.map(([id, , , count]) => [id, Number(count)]));
  }

  /**
   * Writes entries in one transaction and acknowledges them after the commit. Transient
   * failures are retried with backoff (the entries stay pending, in hand); a data failure
   * splits the batch until the poison entry is alone.
   */
  private async write(entries: readonly Entry[]): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      const started = performance.now();
      let result: IngestResult;
      try {
        result = await this.options.ingest(entries.map((e) => e.event));
      } catch (error) {
        if (isDataError(error)) {
          this.options.observer?.writeFailed?.(false);
          if (entries.length > 1) {
            const half = Math.ceil(entries.length / 2);
            await this.write(entries.slice(0, half));
            await this.write(entries.slice(half));
          } else if (entries[0]) await this.failed(entries[0], error);
          return;
        }
        this.options.observer?.writeFailed?.(true);
        this.unhealthy(error, 'writing execution events failed; retrying');
        if (this.stopping) {
          this.options.logger.warn({ entries: entries.length }, 'stopping with a batch unwritten; it stays pending for another consumer or the next start');
          return;
        }
        await this.sleep(this.backoff(attempt));
        await this.refreshIdle();
        continue;
      }
      await this.ack(entries.map((e) => e.id));
      this.healthy();
      for (const entry of entries) {
        this.retries.delete(entry.id);
        this.priorFailures.delete(entry.id);
      }
      this.options.observer?.batchWritten?.({ entries: entries.length, result, seconds: (performance.now() - started) / 1000, events: entries.map((e) => e.event) });
      return;
    }
  }

  /** XACK after the commit; retried while Redis is unreachable (until stopping: then redelivery is harmless). */
  private async ack(ids: readonly string[]): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await this.redis.xack(this.options.streamKey, this.options.group, ...ids);
        return;
      } catch (error) {
        this.unhealthy(error, 'acknowledging written entries failed; retrying (they are in PostgreSQL; a redelivery writes nothing twice)');
        if (this.stopping && attempt >= 3) return;
        await this.sleep(this.backoff(attempt));
      }
    }
  }

  /** One entry failed on its data: retry it later beside the stream, or dead-letter it after maxDeliveries failures. */
  private async failed(entry: Entry, error: unknown): Promise<void> {
    const failures = (this.retries.get(entry.id)?.failures ?? this.priorFailures.get(entry.id) ?? 0) + 1;
    const message = `${(error as { code?: string }).code ?? 'error'}: ${(error as Error).message}`.slice(0, 1000);
    if (failures >= this.options.maxDeliveries) {
      this.retries.delete(entry.id);
      this.priorFailures.delete(entry.id);
      await this.deadLetter(entry.id, entry.raw, message, failures);
      return;
    }
    this.options.logger.warn({ entryId: entry.id, eventId: entry.event.eventId, failures, err: message }, 'an execution event failed to write; retrying it alone');
    this.retries.set(entry.id, { entry, failures, dueAt: Date.now() + Math.min(5000, 100 * 2 ** failures) });
  }

  private async retryDue(): Promise<void> {
    const now = Date.now();
    for (const [id, retry] of [...this.retries]) {
      if (this.stopping) return;
      if (retry.dueAt > now) continue;
      this.inHand = [id];
      try {
        await this.write([retry.entry]);
      } finally {
        this.inHand = [];
      }
    }
  }

  private async deadLetter(id: string, raw: string, error: string, failures: number): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const moved = (await this.redis.eval(
          DEAD_LETTER_SCRIPT,
          2,
          this.options.streamKey,
          this.deadLetterKey,
          this.options.group,
          id,
          raw,
          error,
          String(failures),
          this.options.consumer,
          new Date().toISOString(),
        )) as number;
        if (moved === 1) {
          this.options.logger.error({ entryId: id, failures, reason: error, deadLetters: this.deadLetterKey }, 'execution event dead-lettered');
          this.options.observer?.deadLettered?.(1);
        }
        return;
      } catch (e) {
        this.unhealthy(e, 'dead-lettering an entry failed; retrying');
        if (this.stopping) return;
        await this.sleep(this.backoff(attempt));
      }
    }
  }

  /** Resets the idle time of the entries in hand (XCLAIM JUSTID does not count a delivery), so a long outage does not make other replicas steal them. */
  private async refreshIdle(): Promise<void> {
    if (Date.now() < this.nextRefreshAt) return;
    this.nextRefreshAt = Date.now() + Math.max(200, this.options.claimIdleMs / 3);
    const ids = [...new Set([...this.inHand, ...this.readAhead, ...this.retries.keys()])];
    if (ids.length === 0) return;
    await this.redis.xclaim(this.options.streamKey, this.options.group, this.options.consumer, 0, ...ids, 'JUSTID').catch(() => undefined);
  }

  private async trim(): Promise<void> {
    if (Date.now() < this.nextTrimAt) return;
    this.nextTrimAt = Date.now() + 1000;
    await this.redis.eval(TRIM_SCRIPT, 1, this.options.streamKey, String(this.options.maxLength)).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'trimming the event stream failed');
    });
  }

  private healthy(): void {
    if (this.failingSince !== undefined) this.options.logger.info({ failedForMs: Date.now() - this.failingSince }, 'event ingestion recovered');
    this.failingSince = undefined;
    this.lastError = undefined;
    this.consecutiveFailures = 0;
  }

  private consecutiveFailures = 0;

  private unhealthy(error: unknown, message: string): void {
    this.consecutiveFailures += 1;
    this.lastError = (error as Error)?.message?.slice(0, 300) ?? String(error);
    if (this.failingSince === undefined) {
      this.failingSince = Date.now();
      this.options.logger.warn({ err: error }, message);
    }
  }

  private backoff(attempt = this.consecutiveFailures): number {
    return Math.min(this.options.maxBackoffMs ?? 5000, 50 * 2 ** Math.min(attempt, 10));
  }

  /** Sleeps, cut short by stop(). */
  private sleep(ms: number): Promise<void> {
    if (this.wake.signal.aborted) return Promise.resolve();
    const signal = this.wake.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

function isNoGroup(error: unknown): boolean {
  return String((error as Error)?.message).includes('NOGROUP');
}
