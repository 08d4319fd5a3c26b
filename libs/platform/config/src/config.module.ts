import { type DynamicModule, Inject, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { type AppDefaults, parseConfig, type PlatformConfig } from './config.schema.js';

export const PLATFORM_CONFIG = Symbol('PLATFORM_CONFIG');

/** Parameter decorator: `constructor(@InjectConfig() config: PlatformConfig)`. */
export const InjectConfig = (): ParameterDecorator => Inject(PLATFORM_CONFIG);

export interface PlatformConfigModuleOptions {
  readonly defaults: AppDefaults;
  /** Environment to validate; process.env when omitted (tests pass their own). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Validates the environment once, through @nestjs/config's `validate` hook, and
 * exposes the typed result as PLATFORM_CONFIG (and as `platform` in ConfigService).
 */
@Module({})
export class PlatformConfigModule {
  static forRoot(options: PlatformConfigModuleOptions): DynamicModule {
    let parsed: PlatformConfig | undefined;
    const configModule = ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      validate: (processEnv) => {
        parsed = parseConfig(options.env ?? processEnv, options.defaults);
        return { platform: parsed };
      },
    });
    return {
      module: PlatformConfigModule,
      global: true,
      imports: [configModule],
      providers: [
        {
          provide: PLATFORM_CONFIG,
          // ConfigModule.forRoot validates synchronously above; this only hands the result on.
          useFactory: () => parsed ?? parseConfig(options.env ?? process.env, options.defaults),
        },
      ],
      exports: [PLATFORM_CONFIG],
    };
  }
}
