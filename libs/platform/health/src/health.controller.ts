import { Controller, Get, Inject, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorFunction,
  HealthIndicatorService,
  TypeOrmHealthIndicator,
} from '@nestjs/terminus';
import { InjectDataSource } from '@nestjs/typeorm';
import type { Redis } from 'ioredis';
import type { DataSource } from 'typeorm';
import { PLATFORM_CONFIG, type PlatformConfig } from '@ussd/platform-config';
import { migrationStatus } from '@ussd/platform-database';
import { InjectRedis } from '@ussd/platform-redis';
import { AppLifecycle } from './app-lifecycle.js';
import { Public } from '@ussd/platform-auth';

/**
 * Kubernetes probes.
 * - live: the process answers. Never checks dependencies, so an outage of PostgreSQL
 *   or Redis does not make Kubernetes restart every pod at once.
 * - ready: PostgreSQL and Redis answer, each within HEALTH_CHECK_TIMEOUT_MS, and the
 *   process is not draining. 503 names the failing dependency.
 * - startup: every migration is applied.
 */
@Public('probes answer the orchestrator, which has no credentials; they hold no data')
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly typeorm: TypeOrmHealthIndicator,
    private readonly lifecycle: AppLifecycle,
    @InjectDataSource() private readonly dataSource: DataSource,
    @InjectRedis() private readonly redis: Redis | null,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  @Get('live')
  @HealthCheck()
  live() {
    return this.run('live', [() => this.indicators.check('process').up({ uptimeSeconds: Math.round(process.uptime()) })]);
  }

  @Get('ready')
  @HealthCheck()
  ready() {
    const timeout = this.config.health.timeoutMs;
    return this.run('ready', [
      () => {
        const session = this.indicators.check('lifecycle');
        return this.lifecycle.draining ? session.down({ message: 'shutting down' }) : session.up();
      },
      () => this.typeorm.pingCheck('postgres').withTimeout(timeout),
      () => {
        const redis = this.redis;
        if (redis === null) return this.indicators.check('redis').up({ mode: 'in-memory' });
        return this.indicators
          .check('redis')
          .attempt(async () => {
            await redis.ping();
          })
          .withTimeout(timeout);
      },
    ]);
  }

  @Get('startup')
  @HealthCheck()
  startup() {
    return this.run('startup', [
      () =>
        this.indicators
          .check('migrations')
          .attempt(async () => {
            const { applied, pending } = await migrationStatus(this.dataSource);
            if (pending.length > 0) throw new Error(`${pending.length} pending: ${pending.join(', ')}`);
            return { applied: applied.length };
          })
          .withTimeout(this.config.health.timeoutMs * 5),
    ]);
  }

  /** Terminus's result, and on failure a problem+json 503 whose detail names what failed. */
  private async run(probe: string, checks: HealthIndicatorFunction[]): Promise<HealthCheckResult> {
    try {
      return await this.health.check(checks);
    } catch (error) {
      if (!(error instanceof ServiceUnavailableException)) throw error;
      const result = error.getResponse() as HealthCheckResult;
      const failing = Object.keys(result.error ?? {});
      throw new ServiceUnavailableException({
        type: 'urn:problem:health-check-failed',
        title: `Not ${probe === 'startup' ? 'started' : probe}`,
        detail: `failing: ${failing.join(', ')}`,
        failing,
        info: result.info,
        error: result.error,
        details: result.details,
      });
    }
  }
}
