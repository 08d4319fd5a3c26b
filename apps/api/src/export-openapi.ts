import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { createLogger } from '@ussd/platform-logging';
import { API_DEFAULTS, AppModule } from './app.module.js';
import { buildOpenApiDocument } from './openapi.js';

/**
 * `npm run openapi [file]`: writes openapi.json without a database. Preview mode builds the
 * module graph without instantiating providers, so nothing connects anywhere.
 */
const target = resolve(process.argv[2] ?? 'dist/openapi.json');
const app = await NestFactory.create(
  AppModule.forRoot({
    defaults: API_DEFAULTS,
    env: {},
    logger: createLogger({ name: 'openapi', level: 'silent', format: 'json' }),
    database: { url: 'postgres://unused@127.0.0.1:1/unused', kind: 'external' },
  }),
  new FastifyAdapter(),
  { preview: true, logger: false, abortOnError: false },
);
const document = buildOpenApiDocument(app);
mkdirSync(dirname(target), { recursive: true });
writeFileSync(target, `${JSON.stringify(document, null, 2)}\n`);
process.stdout.write(`wrote ${target} (${Object.keys(document.paths).length} paths)\n`);
await app.close();
