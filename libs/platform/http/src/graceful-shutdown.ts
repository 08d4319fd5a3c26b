import type { INestApplication } from '@nestjs/common';
import type { Logger } from '@ussd/platform-logging';

export interface ShutdownOptions {
  readonly graceMs: number;
  readonly drainDelayMs: number;
  readonly logger: Logger;
  /** Told first, so readiness turns 503 while the server still answers. */
  readonly onDrain: () => void;
  /** Runs after the app closed (HTTP server, pools): stop the embedded database, say. */
  readonly afterClose?: () => Promise<void>;
  /** process.exit unless a test replaces it. */
  readonly exit?: (code: number) => void;
  /** Listen for SIGTERM and SIGINT (default true; in-process tests call the function instead). */
  readonly handleSignals?: boolean;
}

/**
 * Stops a process on purpose: drain (readiness 503), optionally wait for load balancers,
 * stop accepting connections, let in-flight requests finish, close pools, exit 0. If
 * that takes longer than the grace period, it says so and exits 1: honest, not hung.
 * Returns the shutdown function, which SIGTERM and SIGINT call once.
 */
export function installGracefulShutdown(app: INestApplication, options: ShutdownOptions): (signal: string) => Promise<void> {
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let running: Promise<void> | undefined;

  const shutdown = (signal: string): Promise<void> => {
    running ??= (async () => {
      const started = Date.now();
      options.logger.info({ signal, graceMs: options.graceMs }, 'shutting down');
      options.onDrain();
      const timer = setTimeout(() => {
        options.logger.error({ graceMs: options.graceMs }, 'grace period exceeded; exiting with work unfinished');
        exit(1);
      }, options.graceMs);
      timer.unref();
      try {
        if (options.drainDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, options.drainDelayMs));
        await app.close();
        await options.afterClose?.();
        clearTimeout(timer);
        options.logger.info({ ms: Date.now() - started }, 'shutdown complete');
        exit(0);
      } catch (error) {
        clearTimeout(timer);
        options.logger.error({ err: error }, 'shutdown failed');
        exit(1);
      }
    })();
    return running;
  };

  if (options.handleSignals !== false) {
    // `on`, not `once`: a terminal's Ctrl-C reaches every process of the group, and npm and
    // tools/scripts/start.mjs forward it too, so the app can receive SIGINT two or three times.
    // With `once`, the second one would meet Node's default handler and kill the process mid-drain.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.on(signal, () => {
        if (running === undefined) void shutdown(signal);
        else options.logger.debug({ signal }, 'already shutting down');
      });
    }
  }
  return shutdown;
}
