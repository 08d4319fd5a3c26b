import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { PLATFORM_CONFIG, type PlatformConfig } from '@ussd/platform-config';
import { InjectLogger, type Logger, ROOT_LOGGER } from '@ussd/platform-logging';
import { ApiKeys } from './api-keys.js';
import { AuthGuard, JWT_TOKENS } from './auth.guard.js';
import { JwtTokens } from './jwt-tokens.js';
import { AuditLog } from './audit-log.js';
import { ServiceCodeGrants } from './service-code-grants.js';

export interface AuthModuleOptions {
  /**
   * Create an admin key on first start when none exists, and print it once: for the embedded
   * development default only (never with NODE_ENV=production).
   */
  readonly developmentKey: boolean;
}

const AUTH_OPTIONS = Symbol('AUTH_OPTIONS');

@Injectable()
class DevelopmentKey implements OnApplicationBootstrap {
  constructor(
    @Inject(ApiKeys) private readonly keys: ApiKeys,
    @Inject(ServiceCodeGrants) private readonly grants: ServiceCodeGrants,
    @Inject(AUTH_OPTIONS) private readonly options: AuthModuleOptions,
    @InjectLogger() private readonly logger: Logger,
    @Inject(PLATFORM_CONFIG) private readonly config: PlatformConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.developmentKey || (await this.keys.countLive()) > 0) return;
    const { key, record } = await this.keys.create({ name: 'development', team: 'default', role: 'admin', createdBy: 'npm start (first run)' });
    this.logger.info({ keyId: record.id, prefix: record.prefix }, 'created a development admin key (team default)');
    // Once, with the first key: team default may claim every service code, so the README's USSD
    // walkthrough works on a fresh development database. Never in production (no development key there).
    await this.grants.add('default', '*', { actor: 'npm start (first run)', actorKind: 'system', requestId: null });
    // Straight to the terminal, never through the logger: a key is a secret and logs are kept.
    const port = this.config.port === 0 ? 'PORT' : String(this.config.port);
    process.stdout.write(
      `\nA development admin key was created (it is shown only this once; more with \`npm run cli -- keys create\`):\n\n  ${key}\n\n  curl -H 'Authorization: Bearer ${key}' http://127.0.0.1:${port}/workflows\n\n`,
    );
  }
}

/**
 * Identities for an app: the API key store, the global default-deny guard, service-code grants
 * and the audit log.
 * See docs/security.md.
 */
@Module({})
export class AuthModule {
  static forRoot(options: AuthModuleOptions): DynamicModule {
    return {
      module: AuthModule,
      global: true,
      providers: [
        { provide: AUTH_OPTIONS, useValue: options },
        { provide: ApiKeys, inject: [DataSource], useFactory: (dataSource: DataSource) => new ApiKeys(dataSource) },
        {
          provide: JWT_TOKENS,
          inject: [PLATFORM_CONFIG, DataSource, ROOT_LOGGER],
          useFactory: (config: PlatformConfig, dataSource: DataSource, logger: Logger) => (config.jwt === undefined ? null : new JwtTokens(config.jwt, dataSource, logger)),
        },
        { provide: AuditLog, inject: [DataSource], useFactory: (dataSource: DataSource) => new AuditLog(dataSource) },
        { provide: ServiceCodeGrants, inject: [DataSource], useFactory: (dataSource: DataSource) => new ServiceCodeGrants(dataSource) },
        { provide: APP_GUARD, useClass: AuthGuard },
        DevelopmentKey,
      ],
      exports: [ApiKeys, AuditLog, ServiceCodeGrants],
    };
  }
}
