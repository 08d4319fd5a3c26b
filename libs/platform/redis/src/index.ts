/**
 * @ussd/platform-redis: the Redis connection of a process (ioredis).
 *
 * - `RedisModule.forRoot()`: REDIS_CLIENT from REDIS_URL, or null when unset (in-memory mode);
 *   connects at start without failing boot, quits on shutdown.
 * - `createRedisClient(url)`: the same client settings for CLIs and tests.
 */
export * from './redis-client.js';
export * from './redis.module.js';
