import { type DynamicModule, Module } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { PLATFORM_CONFIG, type PlatformConfig } from '@ussd/platform-config';
import { type Logger, ROOT_LOGGER } from '@ussd/platform-logging';
import { recordAudit } from '@ussd/platform-auth';
import { developmentKeyFile, developmentSecretsKey } from './development-key.js';
import { SecretsController } from './secrets.controller.js';
import { type SecretChange, type SecretsQueryable, TeamSecrets } from './team-secrets.js';

/**
 * The audit row of a secret change (secret.set, secret.delete, secret.rotate), written in the
 * change's own transaction: the name and key version, never the value.
 */
export async function auditSecretChange(change: SecretChange, db: SecretsQueryable, requestId?: string | null): Promise<void> {
  await recordAudit(db, {
    actor: change.actor,
    actorKind: change.actorKind,
    team: change.team,
    action: `secret.${change.action}`,
    targetType: 'secret',
    targetId: change.name,
    details: change.keyVersion === undefined ? {} : { keyVersion: change.keyVersion },
    ...(requestId === undefined ? {} : { requestId }),
  });
}

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
            // Every set, delete and rotation is recorded in the audit log, in the change's transaction.
            return new TeamSecrets(dataSource, keys, auditSecretChange);
          },
        },
      ],
      exports: [TeamSecrets],
    };
  }
}
