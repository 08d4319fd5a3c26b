import { type DynamicModule, Module } from '@nestjs/common';
import { AuthModule } from '@ussd/platform-auth';
import { SecretsModule } from '@ussd/platform-secrets';
import { PlatformModule, type PlatformContext } from '@ussd/platform-http';
import { WorkflowFeatureModule } from '@ussd/workflow-feature';
import { ExecutionFeatureModule } from '@ussd/execution-feature';
import { UssdFeatureModule } from '@ussd/ussd-feature';
import { AuditController } from './audit.controller.js';
import { MetricsController } from './metrics.controller.js';
import { RootController } from './root.controller.js';
import { ServiceCodeGrantsController } from './service-code-grants.controller.js';

export const API_DEFAULTS = { appName: 'api', port: 3000 } as const;

/** `npm start` with nothing configured: the embedded database, NODE_ENV unset or development. */
const embeddedDevelopment = (context: PlatformContext) => context.database.kind === 'embedded' && (context.env['NODE_ENV'] ?? 'development') === 'development';

/**
 * The api: platform (config, logging, PostgreSQL, Redis, health), identities (every route needs a
 * key unless declared public) and the product's modules.
 */
@Module({})
export class AppModule {
  static forRoot(context: PlatformContext): DynamicModule {
    return {
      module: AppModule,
      imports: [
        PlatformModule.forRoot(context),
        // The embedded development default gets an admin key on first start, printed once.
        AuthModule.forRoot({ developmentKey: embeddedDevelopment(context) }),
        // Team secrets; without SECRETS_KEYS the embedded development default makes a key in .data/.
        SecretsModule.forRoot({ developmentKey: embeddedDevelopment(context) }),
        WorkflowFeatureModule, ExecutionFeatureModule, UssdFeatureModule],
      controllers: [RootController, ServiceCodeGrantsController, AuditController, MetricsController],
    };
  }
}
