import type { DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { type AppDefaults, loadConfigOrExit, type PlatformConfig, StartupError } from '@ussd/platform-config';
import { type DatabaseHandle, openDatabase } from '@ussd/platform-database';
import { AppLifecycle } from '@ussd/platform-health';
import { createLogger, type Logger, PinoNestLogger, redactUrl } from '@ussd/platform-logging';
import { createFastifyAdapter } from './fastify.js';
import { installGracefulShutdown } from './graceful-shutdown.js';
import type { PlatformContext } from './platform.module.js';
import { ProblemDetailsFilter } from './problem-details.filter.js';
import { applySecurityHeaders } from './security-headers.js';

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
 * (embedded when DATABASE_URL is unset), Nest on Fastify, problem+json errors, security headers and
 * CORS (security-headers.ts), listen,
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
  let database: DatabaseHandle | undefined;
  let lifecycle: AppLifecycle | undefined;
  let nest: NestFastifyApplication | undefined;
  try {
    database = await openDatabase(config, logger);
    const db = database;
    const app = (nest = await NestFactory.create<NestFastifyApplication>(
      options.rootModule({ defaults: options.defaults, env, logger, database: db }),
      createFastifyAdapter(config, logger, () => lifecycle?.draining ?? false),
      // rawBody: the parsed JSON and form bodies keep their bytes (request.rawBody), which
      // a gateway's HMAC signature is computed over.
      { logger: new PinoNestLogger(logger), abortOnError: false, rawBody: true },
    ));
    app.useGlobalFilters(new ProblemDetailsFilter(logger));
    applySecurityHeaders(app, config);
    await options.configure?.(app);
    await app.listen(config.port, config.host);
    const url = localUrl(app, config.host);
    lifecycle = app.get(AppLifecycle);
    const shutdown = installGracefulShutdown(app, {
      graceMs: config.shutdown.graceMs,
      drainDelayMs: config.shutdown.drainDelayMs,
      logger,
      onDrain: () => lifecycle?.startDraining(),
      afterClose: () => db.stop(),
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
    return { app, config, logger, url, database: db, shutdown };
  } catch (error) {
    const { line, known } = describeStartupFailure(error, config);
    // A known failure is one line; anything else is a bug, and its stack goes with it.
    if (known) logger.fatal(line);
    else logger.fatal({ err: error }, line);
    await nest?.close().catch(() => undefined);
    await database?.stop().catch(() => undefined);
    throw new StartupFailure(line, { cause: error });
  }
}

/**
 * For entry points (`main.ts`): start, or exit 1 once the one line saying what failed and what
 * to do is out. Never exits silently: what fails before the logger exists goes to stderr.
 */
export async function runApp(options: BootstrapOptions): Promise<RunningApp | undefined> {
  try {
    return await bootstrap(options);
  } catch (error) {
    if (!(error instanceof StartupFailure)) process.stderr.write(`${options.defaults.appName} could not start: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
    (options.exit ?? ((code: number) => process.exit(code)))(1);
    return undefined;
  }
}

/** What bootstrap throws once it has logged the failure: `message` is the line it logged. */
export class StartupFailure extends Error {
  override readonly name = 'StartupFailure';
}

/** A start-up failure as one line naming what failed and what to do; `known` when that is all there is to say. */
export function describeStartupFailure(error: unknown, config: Pick<PlatformConfig, 'appName' | 'host' | 'port'>): { line: string; known: boolean } {
  const prefix = `${config.appName} could not start:`;
  if (error instanceof StartupError) return { line: `${prefix} ${error.message}`, known: true };
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (syscall === 'listen') {
    const where = `${config.host}:${config.port}`;
    if (code === 'EADDRINUSE') return { line: `${prefix} port ${config.port} is in use (${where}; another instance?): stop it, or set PORT to a free port (PORT=0 picks one).`, known: true };
    if (code === 'EACCES') return { line: `${prefix} not allowed to listen on ${where}: use a PORT above 1023.`, known: true };
    if (code === 'EADDRNOTAVAIL') return { line: `${prefix} HOST ${config.host} is not an address of this machine: set HOST to one (0.0.0.0 for all).`, known: true };
  }
  return { line: `${prefix} ${error instanceof Error ? error.message : String(error)}`, known: false };
}

function localUrl(app: NestFastifyApplication, host: string): string {
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${shown.includes(':') ? `[${shown}]` : shown}:${port}`;
}
