import { PassThrough } from 'node:stream';
import { createLogger, redactUrl } from './logger.js';
import { PinoNestLogger } from './nest-logger.js';
import { runWithRequestContext } from './request-context.js';

function capture() {
  const stream = new PassThrough();
  const lines: Record<string, unknown>[] = [];
  stream.on('data', (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  return { stream, lines };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('createLogger', () => {
  it('stamps the request id on every line inside a request, however deep', async () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'test', level: 'info', format: 'json', destination: stream });
    logger.info('outside');
    await runWithRequestContext({ requestId: 'req-1' }, async () => {
      await tick();
      logger.child({ component: 'deep' }).info('inside');
    });
    await tick();
    expect(lines.map((l) => [l['msg'], l['requestId']])).toEqual([
      ['outside', undefined],
      ['inside', 'req-1'],
    ]);
    expect(lines[1]).toMatchObject({ level: 30, app: 'test', component: 'deep' });
  });

  it('redacts secrets that reach a log line', async () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'test', level: 'info', format: 'json', destination: stream });
    logger.info({ req: { headers: { authorization: 'Bearer abc' } } }, 'x');
    await tick();
    expect(JSON.stringify(lines[0])).not.toContain('Bearer abc');
  });

  it('redacts phone numbers, subscriber input and keys, at the top level and one level down', async () => {
    const { stream, lines } = capture();
    const logger = createLogger({ name: 'test', level: 'info', format: 'json', destination: stream });
    logger.info({ msisdn: '+254712345678', text: '1*1234', key: 'usk_secret', hop: { phoneNumber: '+254712345678', input: '4321', Mobile: '233241234567', Message: '*1#' } }, 'hop');
    await tick();
    const line = JSON.stringify(lines[0]);
    for (const value of ['+254712345678', '1*1234', 'usk_secret', '4321', '233241234567', '*1#']) expect([value, line.includes(value)]).toEqual([value, false]);
    expect(lines[0]).toMatchObject({ msisdn: '[redacted]', hop: { phoneNumber: '[redacted]' } });
  });

  it('pretty format writes human lines, not JSON', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (c: Buffer) => (text += c.toString()));
    createLogger({ name: 'test', level: 'info', format: 'pretty', destination: stream }).info('hello people');
    await tick();
    expect(text).toContain('hello people');
    expect(() => JSON.parse(text)).toThrow();
  });
});

describe('PinoNestLogger', () => {
  it('maps Nest levels and contexts onto pino fields', async () => {
    const { stream, lines } = capture();
    const nest = new PinoNestLogger(createLogger({ name: 't', level: 'trace', format: 'json', destination: stream }));
    nest.log('started', 'Bootstrap');
    nest.log('Mapped {/, GET} route', 'RouterExplorer');
    nest.error('boom', 'Error: boom\n    at x (y.js:1:1)', 'Handler');
    nest.warn({ event: 'slow', ms: 5 });
    nest.error(new Error('as error'));
    await tick();
    expect(lines[0]).toMatchObject({ level: 30, msg: 'started', context: 'Bootstrap' });
    expect(lines[1]).toMatchObject({ level: 20, context: 'RouterExplorer' });
    expect(lines[2]).toMatchObject({ level: 50, msg: 'boom', context: 'Handler' });
    expect(lines[2]?.['stack']).toContain('at x');
    expect(lines[3]).toMatchObject({ level: 40, event: 'slow', ms: 5 });
    expect(lines[4]).toMatchObject({ level: 50, msg: 'as error' });
  });
});

describe('redactUrl', () => {
  it('hides the password and keeps the rest', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/x')).toBe('postgres://app:***@db:5432/x');
    expect(redactUrl('nonsense')).toBe('[unparseable url]');
  });
});
