import { type DynamicModule, Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { parseConfig, PLATFORM_CONFIG } from '@ussd/platform-config';
import { REDIS_CLIENT } from '@ussd/platform-redis';
import type { SessionStore } from '@ussd/session-domain';
import { SESSION_STORE, SessionStoreModule } from './session-store.module.js';

@Global()
@Module({})
class FakePlatform {
  static with(env: Record<string, string>, redis: Redis | null): DynamicModule {
    return {
      module: FakePlatform,
      providers: [
        { provide: PLATFORM_CONFIG, useValue: parseConfig(env, { appName: 'test', port: 0 }) },
        { provide: REDIS_CLIENT, useValue: redis },
      ],
      exports: [PLATFORM_CONFIG, REDIS_CLIENT],
    };
  }
}

/** An app with the platform's config and Redis client (or null) and SessionStoreModule. */
export async function sessionStoreApp(env: Record<string, string>, redis: Redis | null) {
  const moduleRef = await Test.createTestingModule({ imports: [FakePlatform.with(env, redis), SessionStoreModule] }).compile();
  await moduleRef.init();
  return { app: moduleRef, store: moduleRef.get<SessionStore>(SESSION_STORE) };
}
