import { type DynamicModule, Module } from '@nestjs/common';
import { PlatformModule, type PlatformContext } from '@ussd/platform-http';
import { WorkflowFeatureModule } from '@ussd/workflow-feature';
import { ExecutionFeatureModule } from '@ussd/execution-feature';
import { UssdFeatureModule } from '@ussd/ussd-feature';
import { RootController } from './root.controller.js';

export const API_DEFAULTS = { appName: 'api', port: 3000 } as const;

/** The api: platform (config, logging, PostgreSQL, Redis, health) plus the product's modules. */
@Module({})
export class AppModule {
  static forRoot(context: PlatformContext): DynamicModule {
    return {
      module: AppModule,
      imports: [PlatformModule.forRoot(context), WorkflowFeatureModule, ExecutionFeatureModule, UssdFeatureModule],
      controllers: [RootController],
    };
  }
}
