import type { Logger as TypeOrmLogger } from 'typeorm';
import type { Logger } from '@ussd/platform-logging';

/**
 * TypeORM's messages through pino, without parameters (they may hold personal data).
 * A failed query is debug: whoever ran it gets the error and decides whether it matters
 * (a unique violation is often an expected 409, not an incident).
 */
export class PinoTypeOrmLogger implements TypeOrmLogger {
  constructor(private readonly logger: Logger) {}

  logQuery(query: string): void {
    this.logger.trace({ component: 'typeorm', query: query.slice(0, 2000) }, 'query');
  }
  logQueryError(error: string | Error, query: string): void {
    this.logger.debug({ component: 'typeorm', err: error, query: query.slice(0, 2000) }, 'query failed');
  }
  logQuerySlow(time: number, query: string): void {
    this.logger.warn({ component: 'typeorm', ms: time, query: query.slice(0, 2000) }, 'slow query');
  }
  logSchemaBuild(message: string): void {
    this.logger.debug({ component: 'typeorm' }, message);
  }
  logMigration(message: string): void {
    this.logger.debug({ component: 'typeorm' }, message);
  }
  log(level: 'log' | 'info' | 'warn', message: unknown): void {
    this.logger[level === 'warn' ? 'warn' : 'debug']({ component: 'typeorm' }, String(message));
  }
}
