import type { Clock } from './clock.js';

export type RaceEnd<T> =
  | { readonly kind: 'done'; readonly value: T }
  | { readonly kind: 'threw'; readonly error: unknown }
  | { readonly kind: 'node-timeout' }
  | { readonly kind: 'execution-timeout' }
  | { readonly kind: 'canceled' };

type Limit = 'execution-timeout' | 'canceled' | 'node-timeout';

/** Abort reasons, made once: `abort()` without a reason builds a DOMException and its stack every time. */
class LimitReached extends Error {
  override readonly name = 'LimitReached';
  constructor(readonly kind: Limit) {
    super(`attempt abandoned: ${kind}`);
  }
}
const REASONS: Record<Limit, LimitReached> = {
  'execution-timeout': new LimitReached('execution-timeout'),
  canceled: new LimitReached('canceled'),
  'node-timeout': new LimitReached('node-timeout'),
};
const STOPPED = new LimitReached('canceled');
const limitOf = (signal: AbortSignal): Limit => (signal.reason instanceof LimitReached ? signal.reason.kind : 'canceled');

/**
 * The execution-wide limits of one start/resume call: one deadline timer and one cancel link
 * for the whole run rather than per attempt (AbortControllers and timers are a large share of
 * an attempt's cost on the hot path). `signal` aborts at the deadline or on cancel; attempts
 * without a node timeout get it as is. Always `dispose()`: the deadline timer is real.
 */
export class RunLimits {
  readonly signal: AbortSignal;
  private readonly controller = new AbortController();
  private readonly stopTimer = new AbortController();
  private readonly reached: Promise<Limit>;
  private readonly onCancel: (() => void) | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly deadline: number,
    private readonly cancel: AbortSignal | undefined,
  ) {
    this.signal = this.controller.signal;
    const signal = this.signal;
    this.reached = new Promise<Limit>((resolve) => signal.addEventListener('abort', () => resolve(limitOf(signal)), { once: true }));
    if (cancel?.aborted) {
      this.controller.abort(REASONS.canceled);
    } else if (cancel !== undefined) {
      this.onCancel = () => this.controller.abort(REASONS.canceled);
      cancel.addEventListener('abort', this.onCancel, { once: true });
    }
    if (!signal.aborted) {
      clock.sleep(Math.max(0, deadline - clock.now()), this.stopTimer.signal).then(
        () => this.controller.abort(REASONS['execution-timeout']),
        () => undefined,
      );
    }
  }

  /** Which limit has passed, if any; checked before starting or waking an attempt. */
  passed(nodeDeadline: number | null = null): Limit | undefined {
    if (this.signal.aborted) return limitOf(this.signal);
    const now = this.clock.now();
    if (now >= this.deadline) return 'execution-timeout';
    if (nodeDeadline !== null && now >= nodeDeadline) return 'node-timeout';
    return undefined;
  }

  /**
   * Runs `work` until it settles or a limit passes, whichever is first. The limits win even if
   * the work ignores its signal; its late result or rejection is swallowed here, never left
   * unhandled. Timers use the injected clock, so a fake clock decides when a timeout happens.
   */
  async race<T>(work: (signal: AbortSignal) => Promise<T>, nodeDeadline: number | null = null): Promise<RaceEnd<T>> {
    const limit = this.passed(nodeDeadline);
    if (limit !== undefined) return { kind: limit };
    const attempt = nodeDeadline !== null && nodeDeadline < this.deadline ? this.attemptSignal(nodeDeadline) : undefined;
    const signal = attempt?.signal ?? this.signal;
    const contenders: Promise<RaceEnd<T>>[] = [
      Promise.resolve()
        .then(() => work(signal))
        .then(
          (value): RaceEnd<T> => ({ kind: 'done', value }),
          (error: unknown): RaceEnd<T> => ({ kind: 'threw', error }),
        ),
      (attempt?.reached ?? this.reached).then((kind): RaceEnd<T> => ({ kind })),
    ];
    try {
      return await Promise.race(contenders);
    } finally {
      attempt?.dispose();
    }
  }

  dispose(): void {
    this.stopTimer.abort(STOPPED);
    if (this.onCancel !== undefined) this.cancel?.removeEventListener('abort', this.onCancel);
  }

  /** A signal for one attempt with its own timeout, also aborted by the run's limits. */
  private attemptSignal(nodeDeadline: number) {
    const controller = new AbortController();
    const stopTimer = new AbortController();
    const follow = () => controller.abort(this.signal.reason);
    this.signal.addEventListener('abort', follow, { once: true });
    this.clock.sleep(Math.max(0, nodeDeadline - this.clock.now()), stopTimer.signal).then(
      () => controller.abort(REASONS['node-timeout']),
      () => undefined,
    );
    const signal = controller.signal;
    const reached = signal.aborted ? Promise.resolve(limitOf(signal)) : new Promise<Limit>((resolve) => signal.addEventListener('abort', () => resolve(limitOf(signal)), { once: true }));
    return {
      signal,
      reached,
      dispose: () => {
        stopTimer.abort(STOPPED);
        this.signal.removeEventListener('abort', follow);
      },
    };
  }
}
