import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ModulesContainer } from '@nestjs/core';
import { randomUUID } from 'node:crypto';
import { ACCESS_METADATA, type Access } from '@ussd/platform-auth';
import { migrateDatabase } from '@ussd/platform-database';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { bootstrap, type RunningApp } from '@ussd/platform-http';
import { createTestDatabase, silentLogger, type TestDatabase } from '@ussd/platform-testing';
import { AppModule } from './app.module.js';

export interface Route {
  readonly method: string;
  readonly path: string;
  /** What the route declares: @Public(why) or @RequireRole(role); undefined when it declares neither. */
  readonly access: Access | undefined;
}

/** Every route the app's controllers declare, read from Nest's metadata: a new route is in here without anyone listing it. */
export function routeTable(running: RunningApp): Route[] {
  const routes: Route[] = [];
  for (const module of running.app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!controller) continue;
      const base = String(Reflect.getMetadata(PATH_METADATA, controller) ?? '');
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
        if (path === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
        const access = (Reflect.getMetadata(ACCESS_METADATA, handler) ?? Reflect.getMetadata(ACCESS_METADATA, controller)) as Access | undefined;
        routes.push({ method, path: `/${[base, path].join('/')}`.replace(/\/+/g, '/').replace(/(.)\/$/, '$1'), access });
      }
    }
  }
  return routes.sort((a, b) => `${a.path} ${a.method}`.localeCompare(`${b.path} ${b.method}`));
}

/** Path parameters filled with well-formed values, so only the query string can be wrong. */
export function concrete(path: string): string {
  const values: Record<string, string> = { workflowId: randomUUID(), executionId: randomUUID(), version: '1', sessionId: 'session-1', gateway: 'africastalking', name: 'ROUTE_TABLE_SECRET' };
  return path.replace(/:(\w+)/g, (_match, name: string) => values[name] ?? 'x');
}

/**
 * The whole api, in process, on a fresh migrated database (what the route-table specs test), or
 * on `shared` (a second replica). `env` adds or overrides variables (AUTH_JWT_*, CORS_ORIGINS…);
 * `logDestination` receives the log lines (set LOG_LEVEL in `env` to see them).
 */
export async function startApi(
  options: { env?: Record<string, string>; shared?: TestDatabase; logDestination?: NodeJS.WritableStream; configure?: (app: NestFastifyApplication) => void } = {},
): Promise<{ running: RunningApp; database: TestDatabase; routes: Route[] }> {
  const database = options.shared ?? (await createTestDatabase());
  if (options.shared === undefined) await migrateDatabase(database.url, silentLogger());
  const running = await bootstrap({
    defaults: { appName: 'api', port: 0 },
    // The route-table specs send many bad keys from 127.0.0.1 on purpose: the failed-authentication
    // limit is set above them here (rate-limits.integration-spec.ts tests it).
    env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: database.url, RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '100000', ...options.env },
    rootModule: (context) => AppModule.forRoot(context),
    ...(options.logDestination ? { logDestination: options.logDestination } : {}),
    ...(options.configure ? { configure: options.configure } : {}),
    handleSignals: false,
    exit: () => undefined,
  });
  return { running, database, routes: routeTable(running) };
}
