import type { Redis } from 'ioredis';
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { Registry } from 'prom-client';
import { parseConfig } from '@ussd/platform-config';
import { createLogger } from '@ussd/platform-logging';
import { connectRedis } from '@ussd/platform-redis';
import { requireRedis, silentLogger, TcpProxy } from '@ussd/platform-testing';
import { RateLimits } from './rate-limits.js';

interface Provider {
  readonly name: string;
  /** Two RateLimits as two replicas would have them (sharing Redis when there is one). */
  make(env?: Record<string, string>): Promise<{ first: RateLimits; second: RateLimits; shared: boolean }>;
}

const clients: Redis[] = [];
afterAll(async () => {
  for (const client of clients) {
    if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
    else client.disconnect();
  }
});

async function redisClient(url: string): Promise<Redis> {
  const client = await connectRedis(url, { connectionName: 'rate-limit-test', logger: silentLogger() });
  clients.push(client);
  await client.connect();
  return client;
}

function limits(env: Record<string, string>, redis: Redis | null, registry = new Registry(), logger = silentLogger()): RateLimits {
  return new RateLimits(parseConfig(env, { appName: 'test', port: 0 }), redis, logger, registry);
}

const providers: Provider[] = [
  {
    name: 'Redis',
    make: async (env = {}) => {
      const url = await requireRedis();
      const prefixed = { REDIS_URL: url, REDIS_KEY_PREFIX: `test-${randomUUID()}`, ...env };
      return { first: limits(prefixed, await redisClient(url)), second: limits(prefixed, await redisClient(url)), shared: true };
    },
  },
  { name: 'in-memory', make: async (env = {}) => ({ first: limits(env, null), second: limits(env, null), shared: false }) },
];

describe.each(providers)('rate limits, $name', (provider) => {
  it('allows the configured number a minute, then refuses with the seconds to wait', async () => {
    const { first } = await provider.make({ RATE_LIMIT_KEY_PER_MINUTE: '3' });
    for (let i = 0; i < 3; i++) expect(await first.consume('key', 'api-key:a')).toEqual({ allowed: true });
    const refused = await first.consume('key', 'api-key:a');
    expect(refused).toMatchObject({ allowed: false, limit: 3 });
    expect(refused.allowed === false && refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 60).toBe(true);
    // Another id, and another limit of the same id, are counted apart.
    expect(await first.consume('key', 'api-key:b')).toEqual({ allowed: true });
    expect(await first.consume('validate', 'api-key:a')).toEqual({ allowed: true });
  });

  it('peek tells whether the points are used up without taking one', async () => {
    const { first } = await provider.make({ RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '2' });
    for (let i = 0; i < 5; i++) expect(await first.peek('auth_failures', '203.0.113.1')).toEqual({ allowed: true });
    await first.consume('auth_failures', '203.0.113.1', { count: false });
    expect(await first.peek('auth_failures', '203.0.113.1')).toEqual({ allowed: true });
    await first.consume('auth_failures', '203.0.113.1', { count: false });
    expect(await first.peek('auth_failures', '203.0.113.1')).toMatchObject({ allowed: false, limit: 2 });
    expect(await first.peek('auth_failures', '203.0.113.2')).toEqual({ allowed: true });
  });

  it('0 disables a limit', async () => {
    const { first } = await provider.make({ RATE_LIMIT_MSISDN_HOPS_PER_MINUTE: '0' });
    for (let i = 0; i < 100; i++) expect(await first.consume('msisdn', '+254712345678')).toEqual({ allowed: true });
  });

  it('starts again once the window is over', async () => {
    const { first } = await provider.make();
    const limiter = first.create('short', 2, 1);
    expect((await limiter.consume('x')).allowed).toBe(true);
    expect((await limiter.consume('x')).allowed).toBe(true);
    expect(await limiter.consume('x')).toEqual({ allowed: false, retryAfterSeconds: 1, limit: 2 });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await limiter.consume('x')).allowed).toBe(true);
  });

  it(provider.name === 'Redis' ? 'holds across replicas sharing Redis' : 'counts per process (no REDIS_URL: one process only)', async () => {
    const { first, second, shared } = await provider.make({ RATE_LIMIT_VALIDATE_PER_MINUTE: '2' });
    const allowed: boolean[] = [];
    for (const replica of [first, second, second, first, first]) allowed.push((await replica.consume('validate', 'k')).allowed);
    expect(allowed).toEqual(shared ? [true, true, false, false, false] : [true, true, true, true, false]);
  });
});

describe('rate limits on Redis: what is stored, and a Redis outage', () => {
  it('keys hold a hash of the id, never the phone number or the key id', async () => {
    const url = await requireRedis();
    const prefix = `test-${randomUUID()}`;
    const redis = await redisClient(url);
    await limits({ REDIS_URL: url, REDIS_KEY_PREFIX: prefix }, redis).consume('msisdn', '+254712345678');
    const keys = await redis.keys(`${prefix}:*`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(new RegExp(`^${prefix}:rate:msisdn:[A-Za-z0-9_-]{32}$`));
    expect(keys[0]).not.toMatch(/254712345678/);
  });

  it('counts in memory while Redis is unreachable (limits still hold per process), warns once, and goes back to Redis', async () => {
    const url = await requireRedis();
    const proxy = await TcpProxy.forUrl(url).start();
    const stream = new PassThrough();
    const lines: string[] = [];
    stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const logger = createLogger({ name: 'test', level: 'warn', format: 'json', destination: stream });
    const redis = await redisClient(proxy.rewrite(url));
    try {
      const limited = limits({ REDIS_URL: url, REDIS_KEY_PREFIX: `test-${randomUUID()}`, RATE_LIMIT_KEY_PER_MINUTE: '2' }, redis, new Registry(), logger);
      await proxy.cut();
      for (let i = 0; i < 50 && redis.status === 'ready'; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      expect((await limited.consume('key', 'k')).allowed).toBe(true);
      expect((await limited.consume('key', 'k')).allowed).toBe(true);
      expect((await limited.consume('key', 'k')).allowed).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const warnings = lines.filter((line) => line.includes('rate limits are counted in each process'));
      expect(warnings).toHaveLength(1);
      await proxy.restore();
      for (let i = 0; i < 200 && redis.status !== 'ready'; i++) await new Promise((resolve) => setTimeout(resolve, 25));
      expect(redis.status).toBe('ready');
      // Back on Redis: its own count starts there.
      expect((await limited.consume('key', 'k')).allowed).toBe(true);
    } finally {
      await redis.quit().catch(() => redis.disconnect());
      await proxy.stop();
    }
  });
});
