import type { RunningApp } from '@ussd/platform-http';
import { createTestKey, type TestDatabase } from '@ussd/platform-testing';
import { concrete, type Route, startApi } from './route-table.test-helpers.js';

describe('every api route refuses unknown query parameters (the route table, not a list)', () => {
  let database: TestDatabase;
  let running: RunningApp;
  let routes: Route[];
  let auth: { authorization: string };

  beforeAll(async () => {
    ({ running, database, routes } = await startApi());
    ({ headers: auth } = await createTestKey(database.url, 'admin'));
  });
  afterAll(async () => {
    await running?.app.close();
    await database?.drop();
  });

  const send = (method: string, path: string, body?: string, contentType = 'application/json') =>
    fetch(`${running.url}${path}`, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': contentType }) }, ...(body === undefined ? {} : { body }) });

  it('reads the whole route table (every endpoint of the README, and each one is routed by Fastify)', () => {
    const names = routes.map((r) => `${r.method} ${r.path}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'GET /',
        'POST /workflows',
        'GET /workflows',
        'GET /workflows/:workflowId/diff',
        'PATCH /workflows/:workflowId/versions/:version',
        'POST /workflows/:workflowId/executions',
        'GET /executions/:executionId',
        'POST /executions/:executionId/cancel',
        'POST /ussd/:gateway',
        'DELETE /sessions/:sessionId',
        'GET /sessions',
        'GET /teams/:team/service-codes',
        'POST /teams/:team/service-codes',
        'DELETE /teams/:team/service-codes/:pattern',
        'GET /audit',
        'GET /secrets',
        'PUT /secrets/:name',
        'DELETE /secrets/:name',
        'GET /health/live',
        'GET /health/ready',
        'GET /health/startup',
      ]),
    );
    expect(routes.length).toBeGreaterThanOrEqual(29);
    const fastify = running.app.getHttpAdapter().getInstance();
    for (const route of routes) expect([route, fastify.hasRoute({ method: route.method as 'GET', url: route.path })]).toEqual([route, true]);
  });

  it('answers 400 problem+json naming the parameter on every route but the USSD gateways', async () => {
    for (const route of routes.filter((r) => !r.path.startsWith('/ussd/'))) {
      const response = await send(route.method, `${concrete(route.path)}?surprise=1`);
      const label = `${route.method} ${route.path}`;
      expect([label, response.status, response.headers.get('content-type')]).toEqual([label, 400, 'application/problem+json; charset=utf-8']);
      const problem = (await response.json()) as { type: string; detail: string; errors: unknown[] };
      expect([label, problem.type, problem.detail]).toEqual([label, 'urn:problem:validation', 'Unknown query parameter: "surprise".']);
      expect([label, problem.errors]).toEqual([label, [{ in: 'query', pointer: '/surprise', code: 'unknown-parameter', message: expect.stringMatching(/^unknown query parameter: this endpoint takes /) }]]);
    }
  });

  it("answers a USSD gateway's query string in the gateway's format (400 END), and an unknown gateway with the 404 problem", async () => {
    const form = new URLSearchParams({ sessionId: 'ATUid_q', serviceCode: '*384*123#', phoneNumber: '+254712345678', networkCode: '63902', text: '' }).toString();
    const at = await send('POST', '/ussd/africastalking?sessionId=x', form, 'application/x-www-form-urlencoded');
    expect([at.status, at.headers.get('content-type'), await at.text()]).toEqual([400, 'text/plain; charset=utf-8', 'END Sorry, this request could not be understood.']);
    const hubtel = await send('POST', '/ussd/hubtel?debug', JSON.stringify({ Type: 'Initiation', Mobile: '233241234567', SessionId: 'h-q', ServiceCode: '*384*123#', Message: '*384*123#' }));
    expect(hubtel.status).toBe(400);
    expect(hubtel.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await hubtel.json()).toMatchObject({ Type: 'release', Message: 'Sorry, this request could not be understood.' });
    const unknown = await send('POST', '/ussd/nope?x=1', '{}');
    expect([unknown.status, unknown.headers.get('content-type')]).toEqual([404, 'application/problem+json; charset=utf-8']);
    expect(((await unknown.json()) as { title: string }).title).toBe('Unknown USSD gateway');
    expect((await send('GET', '/sessions/ATUid_q')).status).toBe(404); // no session was started
  });

  it('names hostile and odd parameter names exactly (escaped as JSON pointers), and bounds the detail', async () => {
    const cases: [string, string][] = [
      ['__proto__=1', '/__proto__'],
      ['constructor=1', '/constructor'],
      ['a%2Fb~c=1', '/a~1b~0c'],
      ['x[]=1', '/x[]'],
      ['=1', '/'],
      ['%E2%82%AC', '/€'],
      [`${'k'.repeat(3000)}=1`, `/${'k'.repeat(3000)}`],
    ];
    for (const [query, pointer] of cases) {
      const response = await send('GET', `/health/live?${query}`);
      expect([query.slice(0, 20), response.status]).toEqual([query.slice(0, 20), 400]);
      const problem = (await response.json()) as { detail: string; errors: { pointer: string }[] };
      expect(problem.errors.map((e) => e.pointer)).toEqual([pointer]);
      expect(problem.detail.length).toBeLessThan(200);
    }
    const many = await send('GET', `/workflows?limit=1&${Array.from({ length: 150 }, (_, i) => `p${i}=1`).join('&')}`);
    const problem = (await many.json()) as { detail: string; errors: { pointer: string; message: string }[] };
    expect(problem.errors).toHaveLength(100);
    expect(problem.errors[0]).toMatchObject({ pointer: '/p0', message: 'unknown query parameter: this endpoint takes limit, offset, cursor, tags, tagMode, environment, createdBy, q' });
    expect(problem.detail).toBe('Unknown query parameters: "p0", "p1", "p2", "p3", "p4", ….');
  });

  it('refuses before anything runs or is stored, and still takes the parameters a route declares', async () => {
    const spec = { specVersion: 1, settings: { executionTimeoutMs: 10_000, maxSteps: 10 }, triggers: [{ type: 'http', entry: 'done' }], nodes: [{ id: 'done', type: 'end' }] };
    const refused = await send('POST', '/workflows?name=sneaky', JSON.stringify({ name: 'q-test', spec }));
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: { message: string }[] }).errors[0]?.message).toBe('unknown query parameter: name is a field of the JSON body; send it there');
    expect(((await (await send('GET', '/workflows?q=q-test')).json()) as { items: unknown[] }).items).toEqual([]);
    for (const path of ['/workflows?limit=1&tags=a,b&tagMode=all', '/executions?limit=1&status=completed', '/sessions?msisdn=%2B254712345678', '/health/live']) {
      expect([path, (await send('GET', path)).status]).toEqual([path, 200]);
    }
  });
});
