import { createRequire } from 'node:module';
import { pino, type Logger } from 'pino';
import type pinoPretty from 'pino-pretty';
import { currentRequestId } from './request-context.js';

export interface LoggerOptions {
  readonly name: string;
  readonly level: string;
  readonly format: 'json' | 'pretty';
  /** Where lines go; stdout when omitted. Tests pass a stream to read them back. */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * The root logger of a process. JSON for machines, or pretty for people (synchronous,
 * no worker thread, so it costs no start-up time). Every line logged inside a
 * request carries that request's `requestId`, however deep the call that logs it.
 */
export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    name: options.name,
    level: options.level,
    base: { app: options.name },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => {
      const requestId = currentRequestId();
      return requestId === undefined ? {} : { requestId };
    },
    redact: {
      // Secrets, and subscribers' personal data (phone numbers, what they typed) should a field
      // carrying them ever be logged: the code logs session ids instead, this is the net below.
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'key',
        '*.key',
        '*.password',
        '*.databaseUrl',
        '*.redisUrl',
        ...['msisdn', 'phoneNumber', 'phone', 'Mobile', 'text', 'input', 'Message'].flatMap((field) => [field, `*.${field}`]),
      ],
      censor: '[redacted]',
    },
  };
  if (options.format === 'pretty') {
    // Loaded only for people: JSON processes (production) never pay its ~10 MB.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof pinoPretty;
    const stream = pretty({ sync: true, colorize: false, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,app', destination: options.destination ?? 1 });
    return pino(settings, stream);
  }
  return options.destination ? pino(settings, options.destination) : pino(settings);
}

/** Hides the password of a connection URL before it is logged. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '[unparseable url]';
  }
}
