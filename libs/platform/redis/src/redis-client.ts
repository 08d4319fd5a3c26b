import { Redis, type RedisOptions } from 'ioredis';
import { type Logger, redactUrl } from '@ussd/platform-logging';

export interface RedisClientOptions {
  /** Shown in CLIENT LIST, to tell connections apart in production. */
  readonly connectionName: string;
  readonly logger: Logger;
  /** Extra ioredis options (tests shorten timeouts). */
  readonly overrides?: RedisOptions;
}

/**
 * An ioredis client that keeps reconnecting forever (capped backoff) so the process
 * recovers by itself after an outage, but fails commands quickly while disconnected
 * instead of queueing them without bound: callers see the outage, readiness goes 503.
 */
export function createRedisClient(url: string, options: RedisClientOptions): Redis {
  const logger = options.logger.child({ component: 'redis', connection: options.connectionName });
  const client = new Redis(url, {
    connectionName: options.connectionName,
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2000),
    ...options.overrides,
  });
  let healthy = true;
  client.on('ready', () => {
    if (!healthy) logger.info({ url: redactUrl(url) }, 'redis connection restored');
    healthy = true;
  });
  client.on('error', (error: Error) => {
    if (healthy) logger.warn({ err: error, url: redactUrl(url) }, 'redis connection error');
    healthy = false;
  });
  return client;
}
