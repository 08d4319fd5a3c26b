import { randomUUID } from 'node:crypto';
import type { RunningApp } from '@ussd/platform-http';
import { createTestKey, requireRedis, type TestDatabase } from '@ussd/platform-testing';
import { startApi } from './route-table.test-helpers.js';

const SPEC = { specVersion: 1, triggers: [{ type: 'manual', entry: 'done' }], nodes: [{ id: 'done', type: 'end' }] };

describe('rate limits per key and on /workflows/validate, across two replicas sharing Redis', () => {
  let database: TestDatabase;
  let first: RunningApp;
  let second: RunningApp;

  beforeAll(async () => {
    const env = { REDIS_URL: await requireRedis(), REDIS_KEY_PREFIX: `test-${randomUUID()}`, RATE_LIMIT_KEY_PER_MINUTE: '6', RATE_LIMIT_VALIDATE_PER_MINUTE: '2' };
    ({ running: first, database } = await startApi({ env }));
    ({ running: second } = await startApi({ env, shared: database }));
  });
  afterAll(async () => {
    await second?.app.close();
    await first?.app.close();
    await database?.drop();
  });

  const get = (app: RunningApp, headers: Record<string, string>, path = '/workflows') => fetch(`${app.url}${path}`, { headers });
  const validate = (app: RunningApp, headers: Record<string, string>, body: unknown = SPEC) =>
    fetch(`${app.url}/workflows/validate`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  async function expect429(response: Response, detail: RegExp): Promise<void> {
    expect([response.status, response.headers.get('content-type')]).toEqual([429, 'application/problem+json; charset=utf-8']);
    const retryAfter = Number(response.headers.get('retry-after'));
    expect(retryAfter >= 1 && retryAfter <= 60).toBe(true);
    const problem = (await response.json()) as { type: string; title: string; detail: string };
    expect(problem).toMatchObject({ type: 'urn:problem:rate-limited', title: 'Too many requests', status: 429 });
    expect(problem.detail).toMatch(detail);
  }

  it('counts a key on every replica, answers the request over the limit 429 with Retry-After, and leaves other keys alone', async () => {
    const { headers } = await createTestKey(database.url, 'viewer', 'default', 'busy');
    const { headers: other } = await createTestKey(database.url, 'viewer', 'default', 'calm');
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(i % 2 === 0 ? first : second, headers)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
    await expect429(await get(first, headers), /^More than 6 requests with this key a minute; retry after \d+ s/);
    await expect429(await get(second, headers, '/executions'), /^More than 6 requests with this key a minute/);
    expect((await get(second, other)).status).toBe(200);
    // Probes and the gateways carry no key: the per-key limit does not touch them.
    expect((await fetch(`${first.url}/health/live`)).status).toBe(200);
  });

  it('refuses a missing or wrong key with 401 before counting anything', async () => {
    for (let i = 0; i < 8; i++) expect((await get(first, { authorization: 'Bearer usk_nope' })).status).toBe(401);
  });

  it('limits /workflows/validate per key on top of the per-key limit, across replicas; other routes still answer', async () => {
    const { headers } = await createTestKey(database.url, 'viewer', 'default', 'validator');
    expect((await validate(first, headers)).status).toBe(200);
    expect((await validate(second, headers, { specVersion: 1 })).status).toBe(200);
    await expect429(await validate(first, headers), /^More than 2 calls of this route with this key a minute/);
    expect((await get(second, headers)).status).toBe(200);
  });

  it('serves the counters at GET /metrics without a key', async () => {
    const response = await fetch(`${first.url}/metrics`);
    expect([response.status, response.headers.get('content-type')]).toEqual([200, 'text/plain; version=0.0.4; charset=utf-8']);
    const text = await response.text();
    expect(text).toMatch(/^rate_limited_total\{limit="key"\} [1-9]/m);
    expect(text).toMatch(/^# TYPE ussd_gateway_refused_total counter$/m);
    expect(text).not.toMatch(/usk_|\+?254\d{9}/);
  });
});

describe('failed authentications per client address (API-key guessing)', () => {
  let database: TestDatabase;
  let app: RunningApp;

  beforeAll(async () => {
    // The test client is 127.0.0.1: as a trusted proxy, its X-Forwarded-For names the client.
    ({ running: app, database } = await startApi({ env: { RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '3', TRUSTED_PROXIES: '127.0.0.1' } }));
  });
  afterAll(async () => {
    await app?.app.close();
    await database?.drop();
  });

  const from = (address: string, headers: Record<string, string> = {}, path = '/workflows') => fetch(`${app.url}${path}`, { headers: { 'x-forwarded-for': address, ...headers } });

  it('after 3 failed keys from one address, refuses its keyed requests with 429 and Retry-After (even a good key), and nobody else', async () => {
    const { headers: good } = await createTestKey(database.url, 'viewer');
    const guesses: number[] = [];
    for (let i = 0; i < 3; i++) guesses.push((await from('203.0.113.1', { authorization: `Bearer usk_guess${i}` })).status);
    expect(guesses).toEqual([401, 401, 401]);
    const blocked = await from('203.0.113.1', good);
    expect([blocked.status, blocked.headers.get('content-type')]).toEqual([429, 'application/problem+json; charset=utf-8']);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(((await blocked.json()) as { detail: string }).detail).toMatch(/^More than 3 failed authentications a minute from this address; retry after \d+ s/);
    // Another address, and requests without credentials from the same one, are not refused by it.
    expect((await from('203.0.113.2', good)).status).toBe(200);
    expect((await from('203.0.113.1', {}, '/health/live')).status).toBe(200);
    expect((await from('203.0.113.1')).status).toBe(401);
  });

  it('does not count requests without an Authorization header, nor successful ones', async () => {
    const { headers: good } = await createTestKey(database.url, 'viewer', 'default', 'steady');
    for (let i = 0; i < 5; i++) expect((await from('203.0.113.3')).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await from('203.0.113.3', good)).status).toBe(200);
  });
});
