import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AppDefaults, loadConfigOrExit, type PlatformConfig } from '@ussd/platform-config';
import { type DatabaseHandle, openDatabase } from '@ussd/platform-database';
import { AppLifecycle } from '@ussd/platform-health';
import { createLogger, type Logger, PinoNestLogger, redactUrl } from '@ussd/platform-logging';
import { createFastifyAdapter } from './fastify.js';
import { installGracefulShutdown } from './graceful-shutdown.js';
import type { PlatformContext } from './platform.module.js';
import { ProblemDetailsFilter } from './problem-details.filter.js';

export interface BootstrapOptions {
  readonly defaults: AppDefaults;
  /** The app's root module, built from the platform context. */
  readonly rootModule: (context: PlatformContext) => DynamicModule;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Replaces process.exit in tests. */
  readonly exit?: (code: number) => void;
  /** Log destination; stdout when omitted. */
  readonly logDestination?: NodeJS.WritableStream;
  /** Install SIGTERM/SIGINT handlers (default true). */
  readonly handleSignals?: boolean;
  /** Last touches before listening (e.g. the OpenAPI document at /docs). */
  readonly configure?: (app: NestFastifyApplication) => void | Promise<void>;
}

export interface RunningApp {
  readonly app: NestFastifyApplication;
  readonly config: PlatformConfig;
  readonly logger: Logger;
  readonly url: string;
  readonly database: DatabaseHandle;
  /** What SIGTERM does. */
  readonly shutdown: (signal: string) => Promise<void>;
}

/**
 * Starts an app the same way everywhere: validated config (or exit 78), logger, database
 * (embedded when DATABASE_URL is unset), Nest on Fastify, problem+json errors, listen,
 * one boot line naming the backends, graceful shutdown on SIGTERM/SIGINT.
 */
export async function bootstrap(options: BootstrapOptions): Promise<RunningApp> {
  const env = options.env ?? process.env;
  const config = loadConfigOrExit(options.defaults, env as NodeJS.ProcessEnv);
  const logger = createLogger({
    name: config.appName,
    level: config.log.level,
    format: config.log.format,
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const started = Date.now();
  const database = await openDatabase(config, logger);
  let lifecycle: AppLifecycle | undefined;
  try {
    const app = await NestFactory.create<NestFastifyApplication>(
      options.rootModule({ defaults: options.defaults, env, logger, database }),
      createFastifyAdapter(config, logger, () => lifecycle?.draining ?? false),
      { logger: new PinoNestLogger(logger), abortOnError: false },
    );
    app.useGlobalFilters(new ProblemDetailsFilter(logger));
    await options.configure?.(app);
    await app.listen(config.port, config.host);
    const url = localUrl(app, config.host);
    lifecycle = app.get(AppLifecycle);
    const shutdown = installGracefulShutdown(app, {
      graceMs: config.shutdown.graceMs,
      drainDelayMs: config.shutdown.drainDelayMs,
      logger,
      onDrain: () => lifecycle?.startDraining(),
      afterClose: () => database.stop(),
      ...(options.exit ? { exit: options.exit } : {}),
      ...(options.handleSignals === false ? { handleSignals: false } : {}),
    });
    logger.info(
      {
        url,
        ms: Date.now() - started,
        backends: {
          database: database.kind === 'embedded' ? `embedded PostgreSQL (${redactUrl(database.url)})` : `PostgreSQL (${redactUrl(database.url)})`,
          redis: config.redis.url === undefined ? 'in-memory' : `Redis (${redactUrl(config.redis.url)})`,
        },
      },
      `${config.appName} listening on ${url} | database: ${database.kind === 'embedded' ? 'embedded PostgreSQL' : 'PostgreSQL'} | redis: ${config.redis.url === undefined ? 'in-memory' : 'Redis'}`,
    );
    return { app, config, logger, url, database, shutdown };
  } catch (error) {
    logger.fatal({ err: error }, 'start-up failed');
    await database.stop().catch(() => undefined);
    throw error;
  }
}

function localUrl(app: NestFastifyApplication, host: string): string {
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}
