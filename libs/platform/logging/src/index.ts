/**
 * @ussd/platform-logging: structured logs for every process.
 *
 * - `createLogger` builds the pino root logger (JSON in production, pretty in development).
 * - `runWithRequestContext` / `currentRequestId`: AsyncLocalStorage that stamps `requestId`
 *   on every line logged while a request is handled.
 * - `PinoNestLogger` makes Nest log through the same pino logger.
 */
export * from './request-context.js';
export * from './logger.js';
export * from './nest-logger.js';
export * from './logging.module.js';
export type { Logger } from 'pino';
