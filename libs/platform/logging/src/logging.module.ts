import { type DynamicModule, Inject, Module } from '@nestjs/common';
import type { Logger } from 'pino';

export const ROOT_LOGGER = Symbol('ROOT_LOGGER');

/** `constructor(@InjectLogger() logger: Logger)`: the process's pino root logger. */
export const InjectLogger = (): ParameterDecorator => Inject(ROOT_LOGGER);

@Module({})
export class LoggingModule {
  static forRoot(logger: Logger): DynamicModule {
    return { module: LoggingModule, global: true, providers: [{ provide: ROOT_LOGGER, useValue: logger }], exports: [ROOT_LOGGER] };
  }
}
