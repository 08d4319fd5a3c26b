import { type DynamicModule, Inject, Injectable, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { PLATFORM_CONFIG, type PlatformConfig } from '@ussd/platform-config';
import { InjectLogger, type Logger, redactUrl, ROOT_LOGGER } from '@ussd/platform-logging';

export const REDIS_CLIENT = Symbol('REDIS_CLIENT');

/**
 * A command on the shared client that has no answer this long fails ("Command timed out"), so a
 * request never waits longer than this for a Redis that stopped answering without closing the
 * connection (docs/decisions/0026). No blocking command (BLPOP, XREADGROUP BLOCK) may use the
 * shared client: those take their own connection (connectRedis).
 */
export const SHARED_REDIS_COMMAND_TIMEOUT_MS = 2000;

/**
 * The shared client serves requests: while it is disconnected a command fails at once
 * (enableOfflineQueue off) instead of waiting for a reconnection attempt, and the request answers
 * 503 (the problem filter recognises the error). connect() at start-up and ioredis's own
 * handshake commands do not go through the offline queue.
 */
export const SHARED_REDIS_OPTIONS = { enableOfflineQueue: false, commandTimeout: SHARED_REDIS_COMMAND_TIMEOUT_MS } as const;

/** `constructor(@InjectRedis() redis: Redis | null)`: null means in-memory mode (no REDIS_URL). */
export const InjectRedis = (): ParameterDecorator => Inject(REDIS_CLIENT);

@Injectable()
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @InjectRedis() private readonly redis: Redis | null,
    @InjectLogger() private readonly logger: Logger,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    if (!this.redis) return;
    // Start even when Redis is down: readiness reports it and the client keeps reconnecting.
    // connect() rejects with "Connection is closed."; the socket's own error says why.
    let cause: Error | undefined;
    const remember = (error: Error) => (cause ??= error);
    this.redis.on('error', remember);
    await this.redis
      .connect()
      .catch((error: Error) =>
        this.logger.warn(
          `Redis at ${redactUrl(this.config.redis.url ?? '')} is not reachable at start-up (${(cause ?? error).message}): readiness answers 503 and the app keeps retrying until it is; start Redis or fix REDIS_URL.`,
        ),
      )
      .finally(() => this.redis?.off('error', remember));
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.redis) return;
    await this.redis.quit().catch(() => this.redis?.disconnect());
  }
}

@Module({})
export class RedisModule {
  static forRoot(): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      providers: [
        {
          provide: REDIS_CLIENT,
          inject: [PLATFORM_CONFIG, ROOT_LOGGER],
          // ioredis (~20 MB) is loaded only when REDIS_URL is set.
          useFactory: async (config: PlatformConfig, logger: Logger): Promise<Redis | null> =>
            config.redis.url === undefined ? null : (await import('./redis-client.js')).createRedisClient(config.redis.url, { connectionName: config.appName, logger, overrides: SHARED_REDIS_OPTIONS }),
        },
        RedisLifecycle,
      ],
      exports: [REDIS_CLIENT],
    };
  }
}
