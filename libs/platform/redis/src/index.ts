/**
 * @ussd/platform-redis: the Redis connection of a process (ioredis).
 *
 * - `RedisModule.forRoot()`: REDIS_CLIENT from REDIS_URL, or null when unset (in-memory mode);
 *   connects at start without failing boot, quits on shutdown.
 * - `connectRedis(url)`: the same client settings for CLIs and workers (ioredis loads on first use).
 */
export * from './redis.module.js';
export type { RedisClientOptions } from './redis-client.js';

/** The platform's ioredis client settings, for CLIs and workers; loads ioredis on first use. */
export async function connectRedis(...args: Parameters<typeof import('./redis-client.js').createRedisClient>) {
  return (await import('./redis-client.js')).createRedisClient(...args);
}
