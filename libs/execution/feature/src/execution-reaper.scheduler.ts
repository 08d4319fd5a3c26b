import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { InjectConfig, type PlatformConfig } from '@ussd/platform-config';
import { ExecutionReaper } from '@ussd/execution-data-access';
import { InjectLogger, type Logger } from '@ussd/platform-logging';

/** Unknown versions (or specs without settings) get this long before the reaper ends them. */
const DEFAULT_EXECUTION_TIMEOUT_MS = 60 * 60_000;

/**
 * Runs the reaper every EXECUTION_REAPER_INTERVAL_MS in every replica; SKIP LOCKED in its SQL
 * keeps replicas out of each other's way, so no leader election is needed.
 */
@Injectable()
export class ExecutionReaperScheduler implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly reaper: ExecutionReaper;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    @InjectConfig() private readonly config: PlatformConfig,
    @InjectLogger() private readonly logger: Logger,
  ) {
    this.reaper = new ExecutionReaper(dataSource);
  }

  onApplicationBootstrap(): void {
    const interval = this.config.execution.reaperIntervalMs;
    if (interval === 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.reapOnce().finally(() => (this.running = undefined));
    }, interval);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass; ends at most 1,000 executions (the next pass takes the rest). */
  async reapOnce(): Promise<string[]> {
    try {
      const reaped = await this.reaper.reap({ defaultTimeoutMs: DEFAULT_EXECUTION_TIMEOUT_MS, graceMs: this.config.execution.reaperGraceMs, limit: 1000 });
      if (reaped.length > 0) this.logger.warn({ count: reaped.length, executionIds: reaped.slice(0, 20) }, 'executions ended by the reaper (timeout)');
      return reaped;
    } catch (error) {
      this.logger.warn({ err: error }, 'reaper pass failed; will try again');
      return [];
    }
  }
}
