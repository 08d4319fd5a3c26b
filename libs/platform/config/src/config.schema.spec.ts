import { ConfigValidationError, describeVariables, parseConfig } from './config.schema.js';

const defaults = { appName: 'api', port: 3000 };

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    parseConfig(env, defaults);
  } catch (error) {
    if (error instanceof ConfigValidationError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigValidationError');
}

describe('parseConfig', () => {
  it('applies defaults for an empty environment: embedded database, in-memory redis', () => {
    const config = parseConfig({}, defaults);
    expect(config.port).toBe(3000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.database.url).toBeUndefined();
    expect(config.database.migrateOnBoot).toBe(true);
    expect(config.database.embedded).toEqual({ dir: '.data/api/postgres', port: 0 });
    expect(config.redis.url).toBeUndefined();
    expect(config.log).toEqual({ level: 'info', format: 'pretty' });
  });

  it('reads typed values and switches defaults that depend on others', () => {
    const config = parseConfig(
      {
        NODE_ENV: 'production',
        PORT: ' 8080 ',
        DATABASE_URL: 'postgres://u:p@db:5432/app',
        DATABASE_POOL_MAX: '25',
        REDIS_URL: 'redis://cache:6379/0',
        SHUTDOWN_GRACE_MS: '2500',
      },
      defaults,
    );
    expect(config.port).toBe(8080);
    expect(config.log.format).toBe('json');
    expect(config.database.url).toBe('postgres://u:p@db:5432/app');
    expect(config.database.poolMax).toBe(25);
    expect(config.database.migrateOnBoot).toBe(false);
    expect(config.redis.url).toBe('redis://cache:6379/0');
    expect(config.shutdown.graceMs).toBe(2500);
  });

  it('treats empty strings as unset', () => {
    expect(parseConfig({ PORT: '', REDIS_URL: '  ' }, defaults).redis.url).toBeUndefined();
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT: expected an integer from 0 to 65535, got "abc"'],
    [{ PORT: '70000' }, 'PORT: expected an integer from 0 to 65535, got "70000"'],
    [{ PORT: '3000.5' }, 'PORT: expected an integer from 0 to 65535, got "3000.5"'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"'],
    [{ DATABASE_MIGRATE_ON_BOOT: 'maybe' }, 'DATABASE_MIGRATE_ON_BOOT: expected true or false, got "maybe"'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL: expected a postgres:// or postgresql:// URL'],
    [{ REDIS_URL: 'not a url' }, 'REDIS_URL: expected a redis:// or rediss:// URL'],
  ])('rejects %j with one line naming the variable', (env, message) => {
    expect(problemsOf(env)).toEqual([message]);
  });

  it('never echoes a database URL, which may hold a password', () => {
    const [problem] = problemsOf({ DATABASE_URL: 'http://user:s3cret@host/db' });
    expect(problem).not.toContain('s3cret');
  });

  it('reports every bad variable at once', () => {
    expect(problemsOf({ PORT: '-1', DATABASE_POOL_MAX: '0', NODE_ENV: 'staging' })).toHaveLength(3);
  });

  it('reads the outbound HTTP allowlist and response cap; by default nothing is allowlisted', () => {
    expect(parseConfig({}, defaults).outboundHttp).toEqual({ allowedHosts: [], responseMaxBytes: 1_048_576 });
    const config = parseConfig({ HTTP_ALLOWED_HOSTS: ' billing.internal , 10.0.0.0/8,,127.0.0.1,[::1],fd00::/8,svc. ', HTTP_RESPONSE_MAX_BYTES: '65536' }, defaults);
    expect(config.outboundHttp).toEqual({ allowedHosts: ['billing.internal', '10.0.0.0/8', '127.0.0.1', '[::1]', 'fd00::/8', 'svc.'], responseMaxBytes: 65_536 });
  });

  it.each(['*.internal', 'http://billing.internal', '10.0.0.0/33', '10.0.0.0/', '127.1', '0x7f.1', 'billing.internal:8080', 'a b'])(
    'refuses the allowlist entry %j, naming it',
    (entry) => {
      expect(problemsOf({ HTTP_ALLOWED_HOSTS: `ok.example,${entry}` })).toEqual([
        `HTTP_ALLOWED_HOSTS: expected comma-separated host names, IP addresses or CIDRs (such as billing.internal,10.0.0.0/8), got ${JSON.stringify(entry)}`,
      ]);
    },
  );

  it('reads SECRETS_KEYS: versions and 32-byte keys, the current one first; unset by default', () => {
    expect(parseConfig({}, defaults).secrets).toEqual({ keys: undefined });
    const a = Buffer.alloc(32, 1);
    const b = Buffer.alloc(32, 2);
    const config = parseConfig({ SECRETS_KEYS: ` 2:${b.toString('base64')} , 1:${a.toString('base64')}` }, defaults);
    expect(config.secrets.keys).toEqual([
      { version: 2, key: b },
      { version: 1, key: a },
    ]);
  });

  it.each([
    ['a key of 16 bytes', `1:${Buffer.alloc(16, 7).toString('base64')}`],
    ['a key of 33 bytes', `1:${Buffer.alloc(33, 7).toString('base64')}`],
    ['no version', Buffer.alloc(32, 7).toString('base64')],
    ['version 0', `0:${Buffer.alloc(32, 7).toString('base64')}`],
    ['not base64', `1:${'!'.repeat(43)}=`],
  ])('refuses SECRETS_KEYS with %s, without printing the key', (_what, entry) => {
    const problems = problemsOf({ SECRETS_KEYS: `3:${Buffer.alloc(32, 9).toString('base64')},${entry}` });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^SECRETS_KEYS: entry 2 is not version:key/);
    expect(problems[0]).not.toContain(entry);
    expect(problems[0]).not.toContain(Buffer.alloc(32, 9).toString('base64'));
  });

  it('refuses SECRETS_KEYS with a version twice, or no entry', () => {
    const key = Buffer.alloc(32, 5).toString('base64');
    expect(problemsOf({ SECRETS_KEYS: `1:${key},1:${Buffer.alloc(32, 6).toString('base64')}` })).toEqual(['SECRETS_KEYS: version 1 appears twice; every key needs its own version']);
    expect(problemsOf({ SECRETS_KEYS: ' , ' })[0]).toMatch(/^SECRETS_KEYS: expected comma-separated version:key entries/);
  });

  it('documents every variable it reads, with a description', () => {
    const docs = describeVariables(defaults);
    expect(new Set(docs.map((d) => d.name)).size).toBe(docs.length);
    for (const doc of docs) expect(doc.description.length).toBeGreaterThan(10);
  });
});
