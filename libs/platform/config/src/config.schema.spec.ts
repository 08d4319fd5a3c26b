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

  describe('JWT bearer tokens (AUTH_JWT_*)', () => {
    const jwt = { AUTH_JWT_JWKS_URL: 'https://idp.example.com/.well-known/jwks.json', AUTH_JWT_ISSUER: 'https://idp.example.com/', AUTH_JWT_AUDIENCE: 'ussd-flow' };

    it('is off unless a JWKS URL is set', () => {
      expect(parseConfig({}, defaults).jwt).toBeUndefined();
    });

    it('reads the issuer, audience, skew, claims and algorithms, with asymmetric defaults', () => {
      expect(parseConfig(jwt, defaults).jwt).toEqual({
        jwksUrl: jwt.AUTH_JWT_JWKS_URL,
        issuer: 'https://idp.example.com/',
        audience: 'ussd-flow',
        clockSkewSeconds: 60,
        teamClaim: 'team',
        roleClaim: 'role',
        algorithms: ['RS256', 'ES256', 'EdDSA'],
      });
      const custom = parseConfig({ ...jwt, AUTH_JWT_CLOCK_SKEW_SECONDS: '5', AUTH_JWT_TEAM_CLAIM: 'https://ussd.example/team', AUTH_JWT_ROLE_CLAIM: 'ussd_role', AUTH_JWT_ALGORITHMS: ' PS256 , ES384,PS256' }, defaults).jwt;
      expect(custom).toMatchObject({ clockSkewSeconds: 5, teamClaim: 'https://ussd.example/team', roleClaim: 'ussd_role', algorithms: ['PS256', 'ES384'] });
    });

    it('accepts http:// for a loopback host only', () => {
      expect(parseConfig({ ...jwt, AUTH_JWT_JWKS_URL: 'http://127.0.0.1:8080/jwks' }, defaults).jwt?.jwksUrl).toBe('http://127.0.0.1:8080/jwks');
      expect(problemsOf({ ...jwt, AUTH_JWT_JWKS_URL: 'http://idp.internal/jwks' })).toEqual([
        'AUTH_JWT_JWKS_URL: expected an https:// URL (http:// only for a loopback host: keys fetched in clear could be swapped)',
      ]);
    });

    it.each([
      [{ AUTH_JWT_JWKS_URL: jwt.AUTH_JWT_JWKS_URL }, ['AUTH_JWT_ISSUER: required when AUTH_JWT_JWKS_URL is set (the iss your identity provider writes)', 'AUTH_JWT_AUDIENCE: required when AUTH_JWT_JWKS_URL is set (the aud your identity provider writes for this api)']],
      [{ ...jwt, AUTH_JWT_AUDIENCE: ' ' }, ['AUTH_JWT_AUDIENCE: required when AUTH_JWT_JWKS_URL is set (the aud your identity provider writes for this api)']],
      [{ AUTH_JWT_ISSUER: 'https://idp.example.com/' }, ['AUTH_JWT_ISSUER: set, but AUTH_JWT_JWKS_URL is not, so JWTs are off: set AUTH_JWT_JWKS_URL too, or unset AUTH_JWT_ISSUER']],
      [{ ...jwt, AUTH_JWT_JWKS_URL: 'ftp://idp.example.com/jwks' }, ['AUTH_JWT_JWKS_URL: expected a https:// or http:// URL']],
      [{ ...jwt, AUTH_JWT_JWKS_URL: 'https://user:pw@idp.example.com/jwks' }, ['AUTH_JWT_JWKS_URL: expected a URL without credentials (a JWKS is public)']],
      [{ ...jwt, AUTH_JWT_CLOCK_SKEW_SECONDS: '3600' }, ['AUTH_JWT_CLOCK_SKEW_SECONDS: expected an integer from 0 to 300, got "3600"']],
      [{ ...jwt, AUTH_JWT_TEAM_CLAIM: 'my team' }, ['AUTH_JWT_TEAM_CLAIM: expected a claim name, got "my team"']],
    ])('refuses %j with one line per variable', (env, messages) => {
      expect(problemsOf(env)).toEqual(messages);
    });

    it.each(['none', 'HS256', 'RS256,hs512'])('never accepts %j as a signature algorithm, and says why', (algorithms) => {
      const [problem] = problemsOf({ ...jwt, AUTH_JWT_ALGORITHMS: algorithms });
      expect(problem).toMatch(/^AUTH_JWT_ALGORITHMS: expected comma-separated algorithms among RS256, .* \(none and HS\* are never accepted: a token must be signed with the identity provider's private key\), got "/);
    });

    it('refuses an unknown algorithm and an empty list', () => {
      expect(problemsOf({ ...jwt, AUTH_JWT_ALGORITHMS: 'RS1' })[0]).toMatch(/^AUTH_JWT_ALGORITHMS: expected .*, got "RS1"$/);
      expect(problemsOf({ ...jwt, AUTH_JWT_ALGORITHMS: ',' })[0]).toMatch(/^AUTH_JWT_ALGORITHMS: expected .*, got nothing$/);
    });
  });

  describe('CORS_ORIGINS', () => {
    it('is empty by default: no origin gets CORS headers', () => {
      expect(parseConfig({}, defaults).cors).toEqual({ origins: [] });
    });

    it('reads exact origins', () => {
      expect(parseConfig({ CORS_ORIGINS: 'https://console.example.com, http://localhost:5173,' }, defaults).cors.origins).toEqual(['https://console.example.com', 'http://localhost:5173']);
    });

    it.each(['*', 'https://console.example.com/', 'https://console.example.com/app', 'console.example.com', 'ftp://files.example.com', 'https://*.example.com', 'null'])('refuses %j, naming it', (origin) => {
      expect(problemsOf({ CORS_ORIGINS: `https://ok.example.com,${origin}` })).toEqual([
        `CORS_ORIGINS: expected comma-separated origins such as https://console.example.com (scheme, host, optional port; no path, no *), got ${JSON.stringify(origin)}`,
      ]);
    });
  });

  describe('MASK_PHONE_NUMBERS_FOR_VIEWERS', () => {
    it('masks by default, and can be turned off', () => {
      expect(parseConfig({}, defaults).privacy).toEqual({ maskPhoneNumbersForViewers: true });
      expect(parseConfig({ MASK_PHONE_NUMBERS_FOR_VIEWERS: 'false' }, defaults).privacy).toEqual({ maskPhoneNumbersForViewers: false });
      expect(problemsOf({ MASK_PHONE_NUMBERS_FOR_VIEWERS: 'sometimes' })).toEqual(['MASK_PHONE_NUMBERS_FOR_VIEWERS: expected true or false, got "sometimes"']);
    });
  });

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

describe('gateway authentication, trusted proxies and rate limits', () => {
  const token = 'a'.repeat(32);

  it('reads per-gateway tokens (several, for rotation), HMAC secrets, CIDRs and trusted proxies', () => {
    const config = parseConfig(
      {
        USSD_GATEWAY_AFRICASTALKING_TOKEN: ` ${token} , ${'b'.repeat(16)}`,
        USSD_GATEWAY_HUBTEL_HMAC_SECRET: 'c'.repeat(40),
        USSD_GATEWAY_HUBTEL_ALLOWED_CIDRS: '196.201.214.0/24, 2001:db8::/32,10.1.2.3',
        USSD_GATEWAY_HUBTEL_AUTH: 'required',
        TRUSTED_PROXIES: '10.0.0.0/8',
      },
      defaults,
    );
    expect(config.ussd.gateways.africastalking).toEqual({ auth: undefined, tokens: [token, 'b'.repeat(16)], hmacSecrets: [], allowedCidrs: [] });
    expect(config.ussd.gateways.hubtel).toEqual({ auth: 'required', tokens: [], hmacSecrets: ['c'.repeat(40)], allowedCidrs: ['196.201.214.0/24', '2001:db8::/32', '10.1.2.3'] });
    expect(config.trustedProxies).toEqual(['10.0.0.0/8']);
  });

  it('defaults: no credentials, XFF not trusted, limits on', () => {
    const config = parseConfig({}, defaults);
    expect(config.ussd.gateways.hubtel).toEqual({ auth: undefined, tokens: [], hmacSecrets: [], allowedCidrs: [] });
    expect(config.trustedProxies).toEqual([]);
    expect(config.rateLimits).toEqual({ keyPerMinute: 600, validatePerMinute: 60, msisdnHopsPerMinute: 60, authFailuresPerMinute: 0 });
    expect(parseConfig({ RATE_LIMIT_KEY_PER_MINUTE: '0' }, defaults).rateLimits.keyPerMinute).toBe(0);
  });

  it('refuses a bad CIDR, naming the variable and the entry', () => {
    expect(problemsOf({ USSD_GATEWAY_AFRICASTALKING_ALLOWED_CIDRS: '10.0.0.0/33' })).toEqual([expect.stringMatching(/^USSD_GATEWAY_AFRICASTALKING_ALLOWED_CIDRS: expected .*got "10\.0\.0\.0\/33"$/)]);
    expect(problemsOf({ TRUSTED_PROXIES: 'proxy.internal' })).toEqual([expect.stringMatching(/^TRUSTED_PROXIES: expected .*got "proxy\.internal"$/)]);
    expect(problemsOf({ TRUSTED_PROXIES: ' , ' })).toEqual([expect.stringMatching(/^TRUSTED_PROXIES: .*got no entry$/)]);
  });

  it('refuses an empty, short or odd token without echoing it', () => {
    const empty = problemsOf({ USSD_GATEWAY_HUBTEL_TOKEN: `${token},` });
    expect(empty).toEqual([expect.stringMatching(/^USSD_GATEWAY_HUBTEL_TOKEN: .*entry 2 is empty$/)]);
    const short = problemsOf({ USSD_GATEWAY_HUBTEL_TOKEN: 'short-secret' });
    expect(short).toEqual([expect.stringMatching(/entry 1 has 12 characters$/)]);
    const odd = problemsOf({ USSD_GATEWAY_AFRICASTALKING_HMAC_SECRET: 'secret with spaces!!' });
    expect(odd[0]).toMatch(/^USSD_GATEWAY_AFRICASTALKING_HMAC_SECRET: .*others than those allowed$/);
    for (const line of [...empty, ...short, ...odd]) expect(line).not.toMatch(/aaaa|short-secret|with spaces/);
  });

  it('refuses AUTH=none together with a credential, and an unknown AUTH value', () => {
    expect(problemsOf({ USSD_GATEWAY_HUBTEL_AUTH: 'none', USSD_GATEWAY_HUBTEL_TOKEN: token })).toEqual([
      'USSD_GATEWAY_HUBTEL_AUTH: none opens the gateway, but USSD_GATEWAY_HUBTEL_TOKEN is set; remove one or the other',
    ]);
    expect(problemsOf({ USSD_GATEWAY_HUBTEL_AUTH: 'open' })).toEqual(['USSD_GATEWAY_HUBTEL_AUTH: expected one of required, none, got "open"']);
    expect(problemsOf({ RATE_LIMIT_MSISDN_HOPS_PER_MINUTE: '-1' })).toEqual([expect.stringMatching(/^RATE_LIMIT_MSISDN_HOPS_PER_MINUTE: expected an integer from 0/)]);
  });
});
