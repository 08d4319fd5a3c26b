import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { EventProducers } from '@ussd/execution-feature';
import { InjectConfig, type PlatformConfig } from '@ussd/platform-config';
import { InjectLogger, type Logger } from '@ussd/platform-logging';
import { UssdHopService } from './ussd-hop.service.js';

/**
 * Every SESSION_EXPIRY_SWEEP_MS, in every replica: sessions that expired (no hop for
 * SESSION_TTL_SECONDS) have their paused execution ended as `timeout` (`session.expired`).
 * The store hands each expired session to exactly one caller, so replicas need no leader.
 * It stops before the event sink closes at shutdown (it emits events).
 */
@Injectable()
export class SessionExpiryScheduler implements OnApplicationBootstrap {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly hops: UssdHopService,
    @InjectConfig() private readonly config: PlatformConfig,
    @InjectLogger() private readonly logger: Logger,
    producers: EventProducers,
  ) {
    producers.register(() => this.stop());
  }

  onApplicationBootstrap(): void {
    const interval = this.config.session.expirySweepMs;
    if (interval === 0) return;
    this.timer = setInterval(() => {
      this.running ??= this.sweepOnce().finally(() => (this.running = undefined));
    }, interval);
    this.timer.unref();
  }

  /** One pass; returns how many expired sessions it ended. */
  async sweepOnce(): Promise<number> {
    try {
      const ended = await this.hops.sweepExpired();
      if (ended > 0) this.logger.info({ count: ended }, 'executions of expired USSD sessions ended (timeout)');
      return ended;
    } catch (error) {
      this.logger.warn({ err: error }, 'session expiry sweep failed; will try again');
      return 0;
    }
  }

  private async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
