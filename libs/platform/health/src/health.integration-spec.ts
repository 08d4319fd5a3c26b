import { ServiceUnavailableException } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { PlatformConfigModule } from '@ussd/platform-config';
import { DatabaseModule, migrateDatabase } from '@ussd/platform-database';
import { LoggingModule } from '@ussd/platform-logging';
import { RedisModule } from '@ussd/platform-redis';
import { createTestDatabase, silentLogger, type TestDatabase } from '@ussd/platform-testing';
import { AppLifecycle } from './app-lifecycle.js';
import { HealthController } from './health.controller.js';
import { HealthModule } from './health.module.js';

async function failing(probe: Promise<unknown>): Promise<string[]> {
  try {
    await probe;
  } catch (error) {
    if (error instanceof ServiceUnavailableException) return (error.getResponse() as { failing: string[] }).failing;
    throw error;
  }
  return [];
}

describe('HealthController against real PostgreSQL (in-memory Redis mode)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => database?.drop());

  it('startup fails while migrations are pending and passes once they are applied; draining fails readiness only', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        LoggingModule.forRoot(silentLogger()),
        PlatformConfigModule.forRoot({ defaults: { appName: 'test', port: 0 }, env: { DATABASE_URL: database.url } }),
        DatabaseModule.forRoot({ url: database.url, kind: 'external' }),
        RedisModule.forRoot(),
        HealthModule,
      ],
    }).compile();
    await moduleRef.init();
    try {
      const health = moduleRef.get(HealthController);
      expect(await failing(health.startup())).toEqual(['migrations']);
      expect(await failing(health.ready())).toEqual([]);

      await migrateDatabase(database.url, silentLogger());
      expect(await failing(health.startup())).toEqual([]);

      moduleRef.get(AppLifecycle).startDraining();
      expect(await failing(health.ready())).toEqual(['lifecycle']);
      expect(await failing(health.live())).toEqual([]);
    } finally {
      await moduleRef.close();
    }
  });
});
