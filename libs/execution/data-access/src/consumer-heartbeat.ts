import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ConsumerLogger } from './event-stream-consumer.js';

/** How often a live consumer renews its heartbeat; a name is in use while its heartbeat keeps changing. */
export const HEARTBEAT_BEAT_MS = 250;

/** Beats without a change after which an existing heartbeat (whose connection is still listed) is taken for dead at start. */
const WATCH_BEATS = 6;

/**
 * The heartbeat key of one consumer of a group: `<stream>:consumers:<group>:<name>`, under the
 * stream's key (so under REDIS_KEY_PREFIX). It holds `<token> <client id> <beat>` and expires
 * after the TTL unless its process renews it.
 */
export function consumerHeartbeatKey(streamKey: string, group: string, consumer: string): string {
  return `${streamKey}:consumers:${group}:${consumer}`;
}

/** The consumer name asked for is held by another live process. */
export class ConsumerNameInUseError extends Error {
  override readonly name = 'ConsumerNameInUseError';
}

/** Deletes the heartbeat only if it is still this process's (a successor may have taken the name). */
const RELEASE_SCRIPT = `
local value = redis.call('GET', KEYS[1])
if value and string.sub(value, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface ConsumerHeartbeatOptions {
  readonly streamKey: string;
  readonly group: string;
  /** A heartbeat not renewed this long is gone: its consumer is dead. */
  readonly ttlMs: number;
  readonly logger: ConsumerLogger;
  /** Between renewals (default HEARTBEAT_BEAT_MS). */
  readonly beatMs?: number;
}

/**
 * One process's presence in a consumer group: a Redis key with a TTL, renewed every beat on its
 * own connection (the consumer's connection is held by XREADGROUP BLOCK, and a replica waiting
 * for PostgreSQL must still look alive). `acquire` decides the name at start:
 *
 * - no heartbeat under that name: it is ours;
 * - a heartbeat whose Redis connection is gone (`CLIENT LIST ID`: a process killed with -9 has
 *   its sockets closed by the kernel), or that is not renewed for six beats (1.5 s): its process died,
 *   we take the name over at once (a restart under the same name);
 * - a heartbeat that keeps changing: another live process uses the name. With a name derived
 *   from the host, `fallback()` gives another one; a name set by the operator is refused.
 */
export class ConsumerHeartbeat {
  private readonly token = randomUUID();
  private readonly beatMs: number;
  private key: string | undefined;
  private consumer: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private beatNo = 0;
  private clientId: number | undefined;
  private beating: Promise<void> | undefined;
  private warnedFailing = false;
  private warnedShared = false;

  constructor(
    private readonly redis: Redis,
    private readonly options: ConsumerHeartbeatOptions,
  ) {
    this.beatMs = options.beatMs ?? HEARTBEAT_BEAT_MS;
    redis.on('close', () => {
      this.clientId = undefined; // a reconnection is a new client
    });
  }

  /** The name this process consumes under, once acquired. */
  get name(): string | undefined {
    return this.consumer;
  }

  /**
   * Takes `preferred` (or, if a live process holds it and `fallback` is given, the fallback
   * name), writes the first heartbeat, and returns the name. Throws ConsumerNameInUseError
   * when the name is held by a live process and there is no fallback.
   */
  async acquire(preferred: string, fallback?: () => string): Promise<string> {
    let name = preferred;
    for (let attempt = 0; ; attempt += 1) {
      const state = await this.holder(name);
      if (state !== 'live') {
        this.use(name);
        const previous = await this.beat();
        if (state !== 'free' && previous !== null) {
          const why = state === 'gone' ? 'its Redis connection is closed' : 'its heartbeat was not renewed';
          this.options.logger.info({ consumer: name, why }, 'took over the consumer name of a process that stopped');
        }
        return name;
      }
      if (fallback === undefined || attempt >= 3) {
        throw new ConsumerNameInUseError(
          `consumer name "${name}" of group ${this.options.group} is used by another live process (its heartbeat is being renewed): give each process its own INGEST_CONSUMER_NAME, or stop the other one`,
        );
      }
      const next = fallback();
      this.options.logger.warn({ consumer: name, instead: next }, 'another live process consumes under this host name; using another name');
      name = next;
    }
  }

  /** Renews the heartbeat every beat until stop(). */
  start(): void {
    if (this.timer !== undefined || this.key === undefined) return;
    this.timer = setInterval(() => {
      this.beating ??= this.beat()
        .then(() => undefined)
        .catch((error: unknown) => {
          if (!this.warnedFailing) this.options.logger.warn({ err: error, consumer: this.consumer }, 'renewing the consumer heartbeat failed; retrying (other replicas take this consumer for dead after INGEST_HEARTBEAT_TTL_MS)');
          this.warnedFailing = true;
        })
        .finally(() => {
          this.beating = undefined;
        });
    }, this.beatMs);
    this.timer.unref();
  }

  /** Stops renewing and deletes the heartbeat if it is still ours. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.beating;
    if (this.key !== undefined) await this.redis.eval(RELEASE_SCRIPT, 1, this.key, this.token).catch(() => undefined);
  }

  /** Uses `name` unchecked (Redis was unreachable at start); the heartbeat is written at the next beat that gets through. */
  assume(name: string): void {
    this.use(name);
  }

  private use(name: string): void {
    this.consumer = name;
    this.key = consumerHeartbeatKey(this.options.streamKey, this.options.group, name);
  }

  /** Writes the heartbeat; returns the value it replaced. */
  private async beat(): Promise<string | null> {
    if (this.key === undefined) return null;
    this.clientId ??= Number(await this.redis.client('ID'));
    this.beatNo += 1;
    const previous = (await this.redis.set(this.key, `${this.token} ${this.clientId} ${this.beatNo}`, 'PX', this.options.ttlMs, 'GET')) as string | null;
    if (this.warnedFailing) this.options.logger.info({ consumer: this.consumer }, 'consumer heartbeat renewed again');
    this.warnedFailing = false;
    if (previous !== null && !previous.startsWith(`${this.token} `) && this.beatNo > 1 && !this.warnedShared) {
      this.warnedShared = true;
      this.options.logger.error(
        { consumer: this.consumer },
        'another process renews the heartbeat of this consumer name: two processes share it (correct, since writes are idempotent, but wasteful); give each its own INGEST_CONSUMER_NAME',
      );
    }
    return previous;
  }

  /** Whether a live process holds `name`: 'free' (no heartbeat), 'gone' (its connection is closed), 'dead' (nobody renews it), 'live'. */
  private async holder(name: string): Promise<'free' | 'gone' | 'dead' | 'live'> {
    const key = consumerHeartbeatKey(this.options.streamKey, this.options.group, name);
    const first = await this.redis.get(key);
    if (first === null) return 'free';
    const clientId = first.split(' ')[1];
    if (clientId !== undefined && /^\d+$/.test(clientId)) {
      // Its connection gone: the process died (or lost Redis, and then it is not consuming either).
      const listed = (await this.redis.call('CLIENT', 'LIST', 'ID', clientId).catch(() => 'unknown')) as string;
      if (listed.trim() === '') return 'gone';
    }
    // Six beats: a live holder starved of CPU for a moment is still seen renewing.
    const deadline = Date.now() + WATCH_BEATS * this.beatMs;
    while (Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      const now = await this.redis.get(key);
      if (now === null) return 'free';
      if (now !== first) return 'live';
    }
    return 'dead';
  }
}
