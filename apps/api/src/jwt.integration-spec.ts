import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { exportJWK, exportSPKI, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import type { RunningApp } from '@ussd/platform-http';
import { createTestKey, type TestDatabase } from '@ussd/platform-testing';
import { startApi } from './route-table.test-helpers.js';

const ISSUER = 'https://idp.test/realms/ussd';
const AUDIENCE = 'ussd-flow-api';
const SKEW_SECONDS = 30;

/** A local identity provider: a JWKS over node:http (what AUTH_JWT_JWKS_URL points at), and its keys. */
interface Provider {
  readonly server: Server;
  readonly url: string;
  fetches: number;
}

async function serveJwks(jwks: unknown): Promise<Provider> {
  const provider = { fetches: 0 } as { server: Server; url: string; fetches: number };
  provider.server = createServer((request, response) => {
    if (request.url === '/jwks') {
      provider.fetches += 1;
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else if (request.url === '/broken') {
      response.writeHead(502, { 'content-type': 'text/html' }).end('<html>bad gateway</html>');
    } else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => provider.server.listen(0, '127.0.0.1', resolve));
  provider.url = `http://127.0.0.1:${(provider.server.address() as AddressInfo).port}`;
  return provider;
}

/** Whatever SignJWT signs with: a private key, or bytes for the HMAC algorithms. */
type SigningKey = Parameters<SignJWT['sign']>[0];

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

describe('JWT bearer tokens from the identity provider (AUTH_JWT_*)', () => {
  let provider: Provider;
  let running: RunningApp;
  let database: TestDatabase;
  let signingKey: SigningKey;
  let strangerKey: SigningKey;
  let publicPem: string;
  let airtimeWorkflowId: string;

  /** A token signed with the provider's key (or `key`), with sane defaults the test then breaks one at a time. */
  const token = async (claims: JWTPayload = {}, options: { key?: SigningKey; kid?: string; alg?: string; omit?: string[] } = {}) => {
    const payload: JWTPayload = { sub: 'user-1', preferred_username: 'alice', team: 'loans', role: 'viewer', ...claims };
    for (const name of options.omit ?? []) delete payload[name];
    let jwt = new SignJWT(payload).setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? 'k1' });
    if (!options.omit?.includes('iss') && claims.iss === undefined) jwt = jwt.setIssuer(ISSUER);
    if (!options.omit?.includes('aud') && claims.aud === undefined) jwt = jwt.setAudience(AUDIENCE);
    if (!options.omit?.includes('exp')) jwt = jwt.setExpirationTime(typeof claims.exp === 'number' ? claims.exp : now() + 300);
    return jwt.setIssuedAt(now() - 5).sign(options.key ?? signingKey);
  };

  const call = async (authorization: string, method = 'GET', path = '/workflows', body?: unknown) => {
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  };

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    signingKey = pair.privateKey;
    strangerKey = (await generateKeyPair('RS256')).privateKey;
    publicPem = await exportSPKI(pair.publicKey);
    provider = await serveJwks({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }] });
    ({ running, database } = await startApi({
      env: { AUTH_JWT_JWKS_URL: `${provider.url}/jwks`, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE, AUTH_JWT_CLOCK_SKEW_SECONDS: String(SKEW_SECONDS) },
    }));
    await createTestKey(database.url, 'viewer', 'loans');
    const airtime = await createTestKey(database.url, 'editor', 'airtime');
    const spec = { specVersion: 1, settings: { executionTimeoutMs: 10_000, maxSteps: 10 }, triggers: [{ type: 'http', entry: 'done' }], nodes: [{ id: 'done', type: 'end' }] };
    const created = await call(airtime.headers.authorization, 'POST', '/workflows', { name: 'airtime-only', spec });
    expect(created.status).toBe(201);
    airtimeWorkflowId = created.body['workflowId'] as string;
  });
  afterAll(async () => {
    await running?.app.close();
    await database?.drop();
    await new Promise((resolve) => provider?.server.close(resolve));
  });

  it('accepts a valid token, taking team and role from its claims; created_by is team/preferred_username', async () => {
    expect((await call(`Bearer ${await token()}`)).status).toBe(200);
    const spec = { specVersion: 1, settings: { executionTimeoutMs: 10_000, maxSteps: 10 }, triggers: [{ type: 'http', entry: 'done' }], nodes: [{ id: 'done', type: 'end' }] };
    const created = await call(`Bearer ${await token({ role: 'editor' })}`, 'POST', '/workflows', { name: 'by-token', spec });
    expect([created.status, created.body['createdBy']]).toEqual([201, 'loans/alice']);
    // Without a readable preferred_username, the subject names the caller.
    const bySubject = await call(`Bearer ${await token({ role: 'editor', preferred_username: 'x'.repeat(200) })}`, 'POST', '/workflows', { name: 'by-subject', spec });
    expect([bySubject.status, bySubject.body['createdBy']]).toEqual([201, 'loans/user-1']);
    // Admin-level tokens see every team.
    expect((await call(`Bearer ${await token({ role: 'admin' })}`, 'GET', `/workflows/${airtimeWorkflowId}`)).status).toBe(200);
  });

  it('accepts a token expired within the clock skew, and fetches the JWKS once for many tokens', async () => {
    expect((await call(`Bearer ${await token({ exp: now() - 10 })}`)).status).toBe(200);
    const before = provider.fetches;
    for (let i = 0; i < 5; i += 1) expect((await call(`Bearer ${await token()}`)).status).toBe(200);
    expect(provider.fetches).toBe(before);
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    ['a wrong issuer', () => token({ iss: 'https://evil.test/' }), /issuer this api does not trust/],
    ['no issuer', () => token({}, { omit: ['iss'] }), /issuer|"iss"/],
    ['a wrong audience', () => token({ aud: 'another-api' }), /not meant for this api \(aud\)/],
    ['no audience', () => token({}, { omit: ['aud'] }), /aud/],
    ['an expiry beyond the clock skew', () => token({ exp: now() - SKEW_SECONDS - 60 }), /has expired/],
    ['no expiry', () => token({}, { omit: ['exp'] }), /no "exp" claim/],
    ['a not-before beyond the clock skew', () => token({ nbf: now() + SKEW_SECONDS + 60 }), /not valid yet \(nbf\)/],
    ['a signature by another key under the provider’s kid', () => token({}, { key: strangerKey }), /signature does not verify/],
    ['an unknown kid', () => token({}, { key: strangerKey, kid: 'k-unknown' }), /key the identity provider does not publish/],
    ['alg none', async () => `${b64({ alg: 'none', kid: 'k1' })}.${b64({ sub: 'user-1', team: 'loans', role: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now() + 300 })}.`, /algorithm this api does not accept/],
    [
      'HS256 keyed with the provider’s public key (algorithm confusion)',
      async () => token({ role: 'admin' }, { alg: 'HS256', key: new TextEncoder().encode(publicPem) }),
      /algorithm this api does not accept/,
    ],
    ['a payload changed after signing', async () => {
      const [header, , signature] = (await token()).split('.');
      return `${header}.${b64({ sub: 'user-1', team: 'loans', role: 'admin', iss: ISSUER, aud: AUDIENCE, exp: now() + 300 })}.${signature}`;
    }, /signature does not verify/],
    ['no team claim', () => token({}, { omit: ['team'] }), /"team" claim must name a team/],
    ['a team claim that is not a team name', () => token({ team: 'Loans Team!' }), /"team" claim must name a team/],
    ['a team claim that is an array', () => token({ team: ['loans'] }), /"team" claim must name a team/],
    ['a team this api does not have', () => token({ team: 'no-such-team' }), /names a team this api does not have/],
    ['no role claim', () => token({}, { omit: ['role'] }), /"role" claim must be one of viewer, editor, publisher, admin/],
    ['an unknown role', () => token({ role: 'superuser' }), /"role" claim must be one of/],
    ['no subject', () => token({}, { omit: ['sub'] }), /no "sub" claim/],
    ['a subject with control characters', () => token({ sub: 'user\n1' }), /"sub" claim must be 1 to 128 printable characters/],
  ])('refuses a token with %s: 401 problem+json saying what is wrong', async (_label, make, detail) => {
    const response = await call(`Bearer ${await make()}`);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/problem+json; charset=utf-8');
    expect(response.headers.get('www-authenticate')).toBe('Bearer realm="ussd-flow", error="invalid_token"');
    expect(response.body['type']).toBe('urn:problem:auth:unauthenticated');
    expect(String(response.body['detail'])).toMatch(detail);
  });

  it('refuses garbage shaped like a JWT (401), never 500', async () => {
    for (const value of ['a.b.c', `${b64({ alg: 'RS256', kid: 'k1' })}.${b64('not an object')}.AAAA`, `${'A'.repeat(2000)}.${'B'.repeat(2000)}.C`, `${b64({ alg: 'RS256', kid: 'k1', crit: ['x'] })}.${b64({})}.AAAA`]) {
      const response = await call(`Bearer ${value}`);
      expect([value.slice(0, 20), response.status]).toEqual([value.slice(0, 20), 401]);
    }
  });

  it('keeps another team’s workflow hidden (404, as a missing one) and the role’s limits (403)', async () => {
    const loansPublisher = `Bearer ${await token({ role: 'publisher' })}`;
    const theirs = await call(loansPublisher, 'GET', `/workflows/${airtimeWorkflowId}`);
    const missing = await call(loansPublisher, 'GET', '/workflows/00000000-0000-4000-8000-000000000000');
    expect([theirs.status, theirs.body['type']]).toEqual([404, missing.body['type']]);
    expect((await call(loansPublisher, 'POST', `/workflows/${airtimeWorkflowId}/deactivate`)).status).toBe(404);

    const viewer = await call(`Bearer ${await token({ role: 'viewer' })}`, 'POST', `/workflows/${airtimeWorkflowId}/versions/1/publish`);
    expect([viewer.status, viewer.body['type'], viewer.body['detail']]).toEqual([403, 'urn:problem:auth:forbidden', 'This needs the publisher role; the token has viewer.']);
  });

  it('still takes API keys (usk_…) beside tokens', async () => {
    const { headers } = await createTestKey(database.url, 'viewer', 'loans', 'beside-jwt');
    expect((await call(headers.authorization)).status).toBe(200);
    expect((await call(`Bearer usk_${'A'.repeat(43)}`)).status).toBe(401);
  });

  describe('when the identity provider cannot be reached', () => {
    let down: RunningApp;
    let downDatabase: TestDatabase;
    const lines: string[] = [];

    beforeAll(async () => {
      const logs = new PassThrough();
      logs.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter((line) => line !== '')));
      ({ running: down, database: downDatabase } = await startApi({
        env: { AUTH_JWT_JWKS_URL: `${provider.url}/broken`, AUTH_JWT_ISSUER: ISSUER, AUTH_JWT_AUDIENCE: AUDIENCE, LOG_LEVEL: 'warn', LOG_FORMAT: 'json' },
        logDestination: logs,
      }));
    });
    afterAll(async () => {
      await down?.app.close();
      await downDatabase?.drop();
    });

    it('answers 503 with Retry-After (the token may be fine), logs one line without the token, and API keys still work', async () => {
      const jwt = await token();
      for (let i = 0; i < 3; i += 1) {
        const response = await fetch(`${down.url}/workflows`, { headers: { authorization: `Bearer ${jwt}` } });
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('5');
        expect(((await response.json()) as { type: string }).type).toBe('urn:problem:auth:identity-provider-unavailable');
      }
      const warnings = lines.filter((line) => line.includes('identity provider'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain('AUTH_JWT_JWKS_URL');
      expect(lines.join('\n')).not.toContain(jwt.split('.')[2]);

      const { headers } = await createTestKey(downDatabase.url, 'viewer');
      expect((await fetch(`${down.url}/workflows`, { headers })).status).toBe(200);
    });
  });
});
