import type { Clock } from './clock.js';

export type RaceEnd<T> =
  | { readonly kind: 'done'; readonly value: T }
  | { readonly kind: 'threw'; readonly error: unknown }
  | { readonly kind: 'node-timeout' }
  | { readonly kind: 'execution-timeout' }
  | { readonly kind: 'canceled' };

export interface RaceLimits {
  /** Epoch ms the node's attempt must end by, if it has a timeout. */
  readonly nodeDeadline?: number | null;
  readonly executionDeadline: number;
  readonly cancel?: AbortSignal | undefined;
}

class AttemptAbandoned extends Error {
  override readonly name = 'AttemptAbandoned';
}

const never = new Promise<never>(() => undefined);

/**
 * Runs `work` until it settles or a limit passes, whichever is first. The limits win even if
 * the work ignores its signal (a handler stuck in a loop of awaits): the engine moves on and
 * the work's late result or rejection is swallowed here, never left unhandled. Timers use the
 * injected clock, so a fake clock decides when a timeout happens.
 */
export async function raceLimits<T>(clock: Clock, work: (signal: AbortSignal) => Promise<T>, limits: RaceLimits): Promise<RaceEnd<T>> {
  if (limits.cancel?.aborted) return { kind: 'canceled' };
  const now = clock.now();
  if (now >= limits.executionDeadline) return { kind: 'execution-timeout' };
  if (limits.nodeDeadline != null && now >= limits.nodeDeadline) return { kind: 'node-timeout' };

  const workController = new AbortController();
  const timers = new AbortController();
  const contenders: Promise<RaceEnd<T>>[] = [];
  const timer = (at: number, end: RaceEnd<T>) => clock.sleep(Math.max(0, at - now), timers.signal).then(() => end, () => never);

  contenders.push(
    Promise.resolve()
      .then(() => work(workController.signal))
      .then(
        (value): RaceEnd<T> => ({ kind: 'done', value }),
        (error: unknown): RaceEnd<T> => ({ kind: 'threw', error }),
      ),
  );
  let onCancel: (() => void) | undefined;
  const cancel = limits.cancel;
  if (cancel !== undefined) {
    contenders.push(
      new Promise<RaceEnd<T>>((resolve) => {
        onCancel = () => resolve({ kind: 'canceled' });
        cancel.addEventListener('abort', onCancel, { once: true });
      }),
    );
  }
  if (limits.nodeDeadline != null && limits.nodeDeadline < limits.executionDeadline) contenders.push(timer(limits.nodeDeadline, { kind: 'node-timeout' }));
  contenders.push(timer(limits.executionDeadline, { kind: 'execution-timeout' }));

  const end = await Promise.race(contenders);
  timers.abort();
  if (onCancel !== undefined) cancel?.removeEventListener('abort', onCancel);
  if (end.kind !== 'done' && end.kind !== 'threw') workController.abort(new AttemptAbandoned(end.kind));
  return end;
}
