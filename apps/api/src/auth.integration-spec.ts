import { generateKeyPair, SignJWT } from 'jose';
import pg from 'pg';
import { ROLES, type Role, roleAtLeast } from '@ussd/platform-auth';
import { SESSION_STORE } from '@ussd/session-data-access';
import type { SessionStore } from '@ussd/session-domain';
import type { RunningApp } from '@ussd/platform-http';
import { createTestKey, type TestDatabase } from '@ussd/platform-testing';
import { concrete, type Route, startApi } from './route-table.test-helpers.js';

/** What each route may be reached with, from the route table itself: a new route is covered without anyone listing it. */
describe('identities: every api route needs a key with its role, unless it is declared public', () => {
  let database: TestDatabase;
  let running: RunningApp;
  let routes: Route[];
  const keys = {} as Record<Role, { authorization: string }>;

  beforeAll(async () => {
    ({ running, database, routes } = await startApi());
    for (const role of ROLES) keys[role] = (await createTestKey(database.url, role)).headers;
  });
  afterAll(async () => {
    await running?.app.close();
    await database?.drop();
  });

  const send = (route: Route, headers: Record<string, string> = {}) =>
    fetch(`${running.url}${concrete(route.path)}`, {
      method: route.method,
      headers: { ...headers, ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { 'content-type': 'application/json' }) },
      ...(route.method === 'GET' || route.method === 'DELETE' ? {} : { body: '{}' }),
    });

  it('every route declares its access: public with a reason, or a role', () => {
    expect(routes.length).toBeGreaterThanOrEqual(29);
    for (const route of routes) {
      const label = `${route.method} ${route.path}`;
      expect([label, route.access === undefined]).toEqual([label, false]);
      if (route.access?.public === true) expect([label, route.access.why.length > 10]).toEqual([label, true]);
    }
    // What is public is exactly what must be: probes, the index, the metrics, the gateways' callbacks.
    expect(routes.filter((r) => r.access?.public).map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /',
      'GET /health/live',
      'GET /health/ready',
      'GET /health/startup',
      'GET /metrics',
      'POST /ussd/:gateway',
      'POST /ussd/:gateway/:token',
    ]);
  });

  it('answers 401 problem+json with WWW-Authenticate, before doing anything, on every non-public route without a key', async () => {
    for (const route of routes.filter((r) => r.access?.public !== true)) {
      const response = await send(route);
      const label = `${route.method} ${route.path}`;
      expect([label, response.status, response.headers.get('content-type'), response.headers.get('www-authenticate')]).toEqual([
        label,
        401,
        'application/problem+json; charset=utf-8',
        'Bearer realm="ussd-flow"',
      ]);
      expect(((await response.json()) as { type: string }).type).toBe('urn:problem:auth:unauthenticated');
    }
  });

  it('refuses malformed, unknown and hostile credentials alike (401)', async () => {
    const route = routes.find((r) => r.method === 'GET' && r.path === '/workflows')!;
    const { key } = await createTestKey(database.url, 'admin', 'default', 'to-tamper');
    const tampered = `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`;
    for (const authorization of [
      'Bearer',
      'Bearer ',
      `Basic ${Buffer.from('admin:admin').toString('base64')}`,
      'Bearer usk_short',
      `Bearer ${tampered}`,
      `bearer ${key}`,
      `Bearer ${key} extra`,
      `Bearer ${'x'.repeat(5000)}`,
      "Bearer ' OR 1=1 --",
      `Bearer usk_${'A'.repeat(43)}`,
    ]) {
      const response = await send(route, { authorization });
      expect([authorization.slice(0, 30), response.status]).toEqual([authorization.slice(0, 30), 401]);
    }
    expect((await send(route, { authorization: `Bearer ${key}` })).status).toBe(200);
  });

  it('with JWTs off (no AUTH_JWT_JWKS_URL), a well-signed JWT is just an unknown key (401)', async () => {
    const route = routes.find((r) => r.method === 'GET' && r.path === '/workflows')!;
    const { privateKey } = await generateKeyPair('ES256');
    const jwt = await new SignJWT({ sub: 'user-1', team: 'default', role: 'admin' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setExpirationTime('5m').sign(privateKey);
    const response = await send(route, { authorization: `Bearer ${jwt}` });
    expect([response.status, ((await response.json()) as { detail: string }).detail]).toEqual([401, 'The key is unknown, revoked or expired, or the Authorization header is not "Bearer <key>".']);
  });

  it('answers 403 to a key whose role is below the route’s, and lets the role and every role above it through', async () => {
    for (const route of routes.filter((r) => r.access?.public === false)) {
      const need = route.access?.public === false ? route.access.role : 'admin';
      for (const role of ROLES) {
        const response = await send(route, keys[role]);
        const label = `${route.method} ${route.path} as ${role}`;
        if (roleAtLeast(role, need)) expect([label, response.status === 401 || response.status === 403]).toEqual([label, false]);
        else {
          expect([label, response.status]).toEqual([label, 403]);
          expect(((await response.json()) as { detail: string }).detail).toBe(`This needs the ${need} role; the key has ${role}.`);
        }
      }
    }
  });

  it('refuses a revoked key and an expired key (401), and records when a key was last used', async () => {
    const route = routes.find((r) => r.method === 'GET' && r.path === '/workflows')!;
    const revoked = await createTestKey(database.url, 'viewer', 'default', 'to-revoke');
    const expired = await createTestKey(database.url, 'viewer', 'default', 'to-expire');
    expect((await send(route, revoked.headers)).status).toBe(200);
    expect((await send(route, expired.headers)).status).toBe(200);

    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const used = await client.query(`SELECT last_used_at FROM api_keys WHERE name = 'to-revoke'`);
      expect(used.rows[0].last_used_at).toBeInstanceOf(Date);
      await client.query(`UPDATE api_keys SET revoked_at = NOW() WHERE name = 'to-revoke'`);
      await client.query(`UPDATE api_keys SET expires_at = NOW() - interval '1 second' WHERE name = 'to-expire'`);
    } finally {
      await client.end();
    }
    // Keys are cached for 10 s per process: a revocation elsewhere reaches this one within that.
    const deadline = Date.now() + 15_000;
    let statuses: number[] = [];
    while (Date.now() < deadline) {
      statuses = [(await send(route, revoked.headers)).status, (await send(route, expired.headers)).status];
      if (statuses.every((s) => s === 401)) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(statuses).toEqual([401, 401]);
  }, 30_000);

  it('records the key that created a workflow as created_by; a client header cannot claim another', async () => {
    const editor = await createTestKey(database.url, 'editor', 'default', 'ci-deployer');
    const spec = { specVersion: 1, settings: { executionTimeoutMs: 10_000, maxSteps: 10 }, triggers: [{ type: 'http', entry: 'done' }], nodes: [{ id: 'done', type: 'end' }] };
    const response = await fetch(`${running.url}/workflows`, {
      method: 'POST',
      headers: { ...editor.headers, 'content-type': 'application/json', 'x-user-id': 'someone-else' },
      body: JSON.stringify({ name: 'owned', spec }),
    });
    expect(response.status).toBe(201);
    expect(((await response.json()) as { createdBy: string }).createdBy).toBe('default/ci-deployer');
  });

  describe('teams: a key sees its own team’s workflows, executions and sessions; another team’s answer 404, as missing ones do', () => {
    const spec = { specVersion: 1, settings: { executionTimeoutMs: 10_000, maxSteps: 10 }, triggers: [{ type: 'http', entry: 'done' }], nodes: [{ id: 'done', type: 'end', output: "'ok'" }] };
    const call = async (headers: Record<string, string>, method: string, path: string, body?: unknown) => {
      const response = await fetch(`${running.url}${path}`, {
        method,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
    };
    let loans: Record<'viewer' | 'editor' | 'publisher', Record<string, string>>;
    let airtime: Record<'viewer' | 'publisher', Record<string, string>>;
    let workflowId: string;
    let executionId: string;

    beforeAll(async () => {
      loans = {
        viewer: (await createTestKey(database.url, 'viewer', 'loans')).headers,
        editor: (await createTestKey(database.url, 'editor', 'loans')).headers,
        publisher: (await createTestKey(database.url, 'publisher', 'loans')).headers,
      };
      airtime = { viewer: (await createTestKey(database.url, 'viewer', 'airtime')).headers, publisher: (await createTestKey(database.url, 'publisher', 'airtime')).headers };
      const created = await call(loans.editor, 'POST', '/workflows', { name: 'loans-only', spec });
      expect([created.status, created.body['createdBy']]).toEqual([201, 'loans/test-editor']);
      workflowId = created.body['workflowId'] as string;
      expect((await call(loans.publisher, 'POST', `/workflows/${workflowId}/versions/1/publish`)).status).toBe(200);
      const ran = await call(loans.editor, 'POST', `/workflows/${workflowId}/executions`, { mode: 'sync' });
      expect([ran.status, ran.body['status']]).toEqual([200, 'completed']);
      executionId = ran.body['executionId'] as string;
    });

    it('the owning team reads, lists and runs its workflow and executions', async () => {
      expect((await call(loans.viewer, 'GET', `/workflows/${workflowId}`)).status).toBe(200);
      expect(((await call(loans.viewer, 'GET', '/workflows?q=loans-only')).body['items'] as unknown[]).length).toBe(1);
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && (await call(loans.viewer, 'GET', `/executions/${executionId}`)).status !== 200) await new Promise((r) => setTimeout(r, 50));
      expect((await call(loans.viewer, 'GET', `/executions/${executionId}`)).status).toBe(200);
      expect(((await call(loans.viewer, 'GET', `/workflows/${workflowId}/executions`)).body['items'] as { executionId: string }[]).map((e) => e.executionId)).toEqual([executionId]);
      expect(((await call(loans.viewer, 'GET', '/executions')).body['items'] as { executionId: string }[]).map((e) => e.executionId)).toContain(executionId);
    });

    it('another team gets exactly what an unknown id gets, on every route that names the workflow or the execution, and its lists leave them out', async () => {
      const unknownWorkflow = '00000000-0000-4000-8000-000000000000';
      const unknownExecution = '00000000-0000-4000-8000-000000000001';
      const byWorkflow: [string, string, unknown?][] = [
        ['GET', '/workflows/:w'],
        ['GET', '/workflows/:w/published'],
        ['GET', '/workflows/:w/versions'],
        ['GET', '/workflows/:w/versions/1'],
        ['GET', '/workflows/:w/diff?from=1&to=1'],
        ['GET', '/workflows/:w/executions'],
        ['POST', '/workflows/:w/versions', { spec }],
        ['POST', '/workflows/:w/versions/1/publish'],
        ['POST', '/workflows/:w/rollback', { version: 1 }],
        ['POST', '/workflows/:w/deactivate'],
        ['POST', '/workflows/:w/reactivate'],
        ['POST', '/workflows/:w/executions', { mode: 'sync' }],
      ];
      const byExecution: [string, string][] = [
        ['GET', '/executions/:e'],
        ['POST', '/executions/:e/retry'],
        ['POST', '/executions/:e/cancel'],
      ];
      const shape = (r: { status: number; body: Record<string, unknown> }, id: string) => ({ status: r.status, type: r.body['type'], detail: String(r.body['detail']).replaceAll(id, 'ID') });
      for (const [method, template, body] of byWorkflow) {
        const theirs = await call(airtime.publisher, method, template.replace(':w', workflowId), body);
        const missing = await call(airtime.publisher, method, template.replace(':w', unknownWorkflow), body);
        expect([method, template, shape(theirs, workflowId)]).toEqual([method, template, shape(missing, unknownWorkflow)]);
        expect([method, template, theirs.status]).toEqual([method, template, 404]);
      }
      for (const [method, template] of byExecution) {
        const theirs = await call(airtime.publisher, method, template.replace(':e', executionId), method === 'POST' ? {} : undefined);
        const missing = await call(airtime.publisher, method, template.replace(':e', unknownExecution), method === 'POST' ? {} : undefined);
        expect([method, template, shape(theirs, executionId)]).toEqual([method, template, shape(missing, unknownExecution)]);
        expect([method, template, theirs.status]).toEqual([method, template, 404]);
      }
      expect(((await call(airtime.viewer, 'GET', '/workflows?q=loans-only')).body['items'] as unknown[]).length).toBe(0);
      expect(((await call(airtime.viewer, 'GET', '/executions')).body['items'] as { executionId: string }[]).map((e) => e.executionId)).not.toContain(executionId);
      // Nothing changed for the owner: still one version, still active.
      const versions = await call(loans.viewer, 'GET', `/workflows/${workflowId}/versions`);
      expect((versions.body as unknown as unknown[]).length).toBe(1);
    });

    it('an admin sees every team’s', async () => {
      expect((await call(keys.admin, 'GET', `/workflows/${workflowId}`)).status).toBe(200);
      expect((await call(keys.admin, 'GET', `/executions/${executionId}`)).status).toBe(200);
      expect(((await call(keys.admin, 'GET', '/workflows?q=loans-only')).body['items'] as unknown[]).length).toBe(1);
    });

    it('a session belongs to the team of the workflow its conversation runs', async () => {
      const store = running.app.get<SessionStore>(SESSION_STORE);
      const now = new Date().toISOString();
      const conversation = {
        v: 1,
        gateway: 'africastalking',
        serviceCode: '*384*1#',
        workflowId,
        version: 1,
        environment: 'production',
        executionId,
        continuation: null,
        screen: null,
        lastHop: { key: 'k', reply: { kind: 'end', text: 'Bye' } },
        hops: 1,
      };
      await store.commit({ sessionId: 'team-session-1', type: 'ussd', msisdn: '+254712000111', data: conversation, createdAt: now, lastActivityAt: now, isActive: true }, { expectedRevision: null });
      expect((await call(loans.viewer, 'GET', '/sessions/team-session-1')).status).toBe(200);
      expect(((await call(loans.viewer, 'GET', '/sessions?msisdn=%2B254712000111')).body['items'] as unknown[]).length).toBe(1);
      const theirs = await call(airtime.publisher, 'GET', '/sessions/team-session-1');
      const missing = await call(airtime.publisher, 'GET', '/sessions/no-such-session');
      expect([theirs.status, theirs.body['type']]).toEqual([missing.status, missing.body['type']]);
      expect(theirs.status).toBe(404);
      expect(((await call(airtime.viewer, 'GET', '/sessions?msisdn=%2B254712000111')).body['items'] as unknown[]).length).toBe(0);
      expect((await call(airtime.publisher, 'DELETE', '/sessions/team-session-1')).status).toBe(404);
      expect((await call(loans.viewer, 'GET', '/sessions/team-session-1')).status).toBe(200); // not ended by the stranger
    });
  });
});
