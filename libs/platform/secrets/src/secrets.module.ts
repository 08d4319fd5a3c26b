import { type DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PLATFORM_CONFIG, type PlatformConfig } from '@ussd/platform-config';
import { type Logger, ROOT_LOGGER } from '@ussd/platform-logging';
import { developmentKeyFile, developmentSecretsKey } from './development-key.js';
import { SecretsController } from './secrets.controller.js';
import { TeamSecrets } from './team-secrets.js';

export interface SecretsModuleOptions {
  /**
   * Without SECRETS_KEYS, generate a key once beside the embedded database (`secrets.key`) and
   * use it: for the embedded development default only, never with NODE_ENV=production.
   */
  readonly developmentKey: boolean;
}

/**
 * Team secrets for an app: the `TeamSecrets` store (sealed with SECRETS_KEYS) and the
 * `/secrets` routes. Global, so the runner and the spec validation can resolve names.
 */
@Module({})
export class SecretsModule {
  static forRoot(options: SecretsModuleOptions = { developmentKey: false }): DynamicModule {
    return {
      module: SecretsModule,
      global: true,
      controllers: [SecretsController],
      providers: [
        {
          provide: TeamSecrets,
          inject: [DataSource, PLATFORM_CONFIG, ROOT_LOGGER],
          useFactory: (dataSource: DataSource, config: PlatformConfig, logger: Logger) => {
            const keys = config.secrets.keys ?? (options.developmentKey && config.nodeEnv !== 'production' ? developmentSecretsKey(developmentKeyFile(config.database.embedded.dir), logger) : undefined);
            if (keys === undefined) logger.warn('no SECRETS_KEYS: secrets cannot be written, and executions that use one fail with secrets.unavailable');
            // The audit log hooks in here: TeamSecrets reports every set, delete and rotation as a
            // SecretChange, inside the change's transaction (third argument: (change, db) => recordAudit(db, …)).
            return new TeamSecrets(dataSource, keys);
          },
        },
      ],
      exports: [TeamSecrets],
    };
  }
}
