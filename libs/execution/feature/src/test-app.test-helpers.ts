import { Module } from '@nestjs/common';
import { AuthModule } from '@ussd/platform-auth';
import { migrateDatabase } from '@ussd/platform-database';
import { bootstrap, PlatformModule, type RunningApp } from '@ussd/platform-http';
import { createTestDatabase, createTestKey, silentLogger, type TestDatabase } from '@ussd/platform-testing';
import { WorkflowFeatureModule } from '@ussd/workflow-feature';
import { ExecutionFeatureModule } from './execution-feature.module.js';

@Module({})
class TestRoot {}

export interface TestApp {
  readonly running: RunningApp;
  readonly database: TestDatabase;
  readonly url: string;
  /** An admin key of team `default`, as request headers. */
  readonly auth: { readonly authorization: string };
  close(): Promise<void>;
}

/** The workflow and execution APIs on a fresh, migrated database, listening on a free port. */
export async function startExecutionApp(env: Record<string, string> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  await migrateDatabase(database.url, silentLogger());
  const running = await bootstrap({
    defaults: { appName: 'test', port: 0 },
    env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: database.url, EXECUTION_EVENT_FLUSH_MS: '10', ...env },
    rootModule: (context) => ({ module: TestRoot, imports: [PlatformModule.forRoot(context), AuthModule.forRoot({ developmentKey: false }), WorkflowFeatureModule, ExecutionFeatureModule] }),
    handleSignals: false,
    exit: () => undefined,
  });
  const { headers: auth } = await createTestKey(database.url, 'admin');
  return {
    running,
    database,
    url: running.url,
    auth,
    close: async () => {
      await running.app.close();
      await database.drop();
    },
  };
}
