import { Global, Inject, Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { PLATFORM_CONFIG, type PlatformConfig } from '@ussd/platform-config';
import { REDIS_CLIENT } from '@ussd/platform-redis';
import type { SessionStore } from '@ussd/session-domain';
import { InMemorySessionStore } from './in-memory-session-store.js';
import { RedisSessionStore } from './redis-session-store.js';

export const SESSION_STORE = Symbol('SESSION_STORE');

/** `constructor(@InjectSessionStore() sessions: SessionStore)`. */
export const InjectSessionStore = (): ParameterDecorator => Inject(SESSION_STORE);

/** The store for this process: Redis on the shared client when REDIS_URL is set, else in memory. */
export function createSessionStore(config: PlatformConfig, redis: Redis | null): SessionStore {
  const ttlSeconds = config.session.ttlSeconds;
  return redis === null ? new InMemorySessionStore({ ttlSeconds }) : new RedisSessionStore(redis, { ttlSeconds, keyPrefix: config.redis.keyPrefix });
}

@Injectable()
class SessionStoreLifecycle implements OnApplicationShutdown {
  constructor(@InjectSessionStore() private readonly store: SessionStore) {}

  /** Drops in-memory sessions; the Redis store leaves the shared client to RedisModule. */
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}

/**
 * SESSION_STORE for the whole app (global): RedisSessionStore on REDIS_CLIENT (keys under
 * REDIS_KEY_PREFIX, TTL SESSION_TTL_SECONDS) or InMemorySessionStore without REDIS_URL.
 * Needs PlatformModule (config and Redis) in the app.
 */
@Global()
@Module({
  providers: [
    { provide: SESSION_STORE, inject: [PLATFORM_CONFIG, REDIS_CLIENT], useFactory: createSessionStore },
    SessionStoreLifecycle,
  ],
  exports: [SESSION_STORE],
})
export class SessionStoreModule {}
