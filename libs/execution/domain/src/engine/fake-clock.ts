import type { Clock } from './clock.js';

interface Timer {
  readonly due: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/**
 * A clock for tests (no test-framework dependency, so it ships in the index for other libs'
 * tests too). Time moves only when timers fire.
 *
 * With `autoAdvance` (the default), whenever the process is otherwise idle (a macrotask after
 * every pending promise has settled) the earliest timer fires and time jumps to it. Code that
 * only awaits promises and `sleep` then runs in virtual time, instantly and deterministically.
 * Do not combine auto-advance with real I/O: a pending socket is not "busy" to this clock.
 */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: Timer[] = [];
  private scheduled = false;
  private readonly autoAdvance: boolean;
  /** Every requested sleep, in order, for assertions. */
  readonly sleeps: number[] = [];

  constructor(options: { start?: number | string; autoAdvance?: boolean } = {}) {
    const start = options.start ?? '2026-01-01T00:00:00.000Z';
    this.current = typeof start === 'number' ? start : Date.parse(start);
    this.autoAdvance = options.autoAdvance ?? true;
  }

  now(): number {
    return this.current;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer: Timer = {
        due: this.current + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((t) => t !== timer);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
      this.schedule();
    });
  }

  /** Moves time forward by `ms`, firing due timers in order and letting each one's effects settle. */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const next = this.timers[0];
      if (next === undefined || next.due > target) break;
      this.fire(next);
      await idle();
    }
    this.current = Math.max(this.current, target);
  }

  /** Timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  private fire(timer: Timer): void {
    this.timers = this.timers.filter((t) => t !== timer);
    this.current = Math.max(this.current, timer.due);
    timer.resolve();
  }

  private schedule(): void {
    if (!this.autoAdvance || this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const next = this.timers[0];
      if (next === undefined) return;
      this.fire(next);
      if (this.timers.length > 0) this.schedule();
    });
  }
}

const idle = () => new Promise<void>((resolve) => setImmediate(resolve));
