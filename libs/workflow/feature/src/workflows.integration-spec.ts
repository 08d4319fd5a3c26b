import { Module } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { migrateDatabase } from '@ussd/platform-database';
import { bootstrap, PlatformModule, type RunningApp } from '@ussd/platform-http';
import { AuthModule } from '@ussd/platform-auth';
import pg from 'pg';
import { createTestDatabase, createTestKey, grantServiceCodes, silentLogger, type TestDatabase } from '@ussd/platform-testing';
import { WorkflowFeatureModule } from './workflow-feature.module.js';

@Module({})
class TestRoot {}

const validSpec = (farewell = 'Bye') => ({
  specVersion: 1,
  settings: { executionTimeoutMs: 30_000, maxSteps: 100 },
  triggers: [{ type: 'http', entry: 'menu' }],
  nodes: [
    { id: 'menu', type: 'ussd.menu', text: 'Choose', options: [{ key: '1', label: 'Done', next: 'bye' }] },
    { id: 'bye', type: 'ussd.end', text: farewell },
  ],
});
const invalidSpec = () => ({ ...validSpec(), nodes: [{ id: 'menu', type: 'ussd.menu', text: 'Choose', options: [{ key: '1', label: 'Go', next: 'nowhere' }] }] });

interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  errors?: { pointer: string; code: string; message: string; in?: string }[];
}

describe('workflow registry API against real PostgreSQL', () => {
  let database: TestDatabase;
  let running: RunningApp;
  let base: string;
  let auth: { authorization: string };

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    running = await bootstrap({
      defaults: { appName: 'test', port: 0 },
      env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: database.url, WORKFLOW_SPEC_MAX_BYTES: '4096', HTTP_BODY_LIMIT_BYTES: '65536' },
      rootModule: (context) => ({ module: TestRoot, imports: [PlatformModule.forRoot(context), AuthModule.forRoot({ developmentKey: false }), WorkflowFeatureModule] }),
      handleSignals: false,
      exit: () => undefined,
    });
    base = running.url;
    ({ headers: auth } = await createTestKey(database.url, 'admin', 'default', 'alice'));
  });
  afterAll(async () => {
    await running?.app.close();
    await database?.drop();
  });

  async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...auth, ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> & Problem };
  }

  async function createWorkflow(overrides: Record<string, unknown> = {}) {
    const created = await call('POST', '/workflows', { name: 'Airtime', tags: ['airtime'], environment: 'production', spec: validSpec(), ...overrides });
    expect(created.status).toBe(201);
    return created;
  }

  describe('create and read', () => {
    it('creates version 1 as a draft, with Location, ETag, created_by from the caller, and a validation report', async () => {
      const created = await createWorkflow({ description: 'Top up' });
      const id = created.body['workflowId'] as string;
      expect(created.headers.get('location')).toBe(`/workflows/${id}/versions/1`);
      expect(created.headers.get('etag')).toMatch(/^"[\w-]+"$/);
      expect(created.body).toMatchObject({ version: 1, status: 'draft', name: 'Airtime', createdBy: 'default/alice', tags: ['airtime'], isActive: true, publishedAt: null });
      expect(created.body['validation']).toEqual({ valid: true, errors: [] });
      const latest = await call('GET', `/workflows/${id}`);
      expect(latest.status).toBe(200);
      expect(latest.body['spec']).toEqual(validSpec());
      expect(latest.headers.get('etag')).toBe(created.headers.get('etag'));
      expect((await call('GET', `/workflows/${id}/versions/1`)).body['description']).toBe('Top up');
    });

    it('stores an invalid draft but reports every problem with a JSON pointer', async () => {
      const created = await createWorkflow({ spec: invalidSpec() });
      const validation = created.body['validation'] as { valid: boolean; errors: { pointer: string; code: string }[] };
      expect(validation.valid).toBe(false);
      expect(validation.errors).toEqual(expect.arrayContaining([expect.objectContaining({ pointer: '/nodes/0/options/0/next', code: 'unknown-node' })]));
    });

    it('refuses a caller without identity (401) and bad fields (400 with a pointer each)', async () => {
      const anonymous = await call('POST', '/workflows', { name: 'x', spec: validSpec() }, { authorization: '' });
      expect(anonymous.status).toBe(401);
      const bad = await call('POST', '/workflows', { name: '', tags: ['ok', 'bad tag'], environment: 'Prod!', spec: [], extra: 1 });
      expect(bad.status).toBe(400);
      expect(bad.headers.get('content-type')).toContain('application/problem+json');
      expect(bad.body.errors?.map((e) => e.pointer).sort()).toEqual(['/environment', '/extra', '/name', '/spec', '/tags/1']);
      expect(bad.body.errors?.find((e) => e.pointer === '/extra')).toEqual({ in: 'body', pointer: '/extra', code: 'unknown-field', message: 'unknown field' });
      expect(bad.body.errors?.every((e) => e.in === 'body' && typeof e.code === 'string' && typeof e.message === 'string' && !('reason' in e))).toBe(true);
    });

    it.each([
      ['malformed JSON', '{"name":', 400],
      ['a JSON array', '[]', 400],
      ['null', 'null', 400],
    ])('answers %s with %i problem+json', async (_name, raw, status) => {
      const response = await call('POST', '/workflows', raw);
      expect(response.status).toBe(status);
      expect(response.body.status).toBe(status);
    });

    it('answers 413 for a spec over WORKFLOW_SPEC_MAX_BYTES and for a body over the HTTP limit', async () => {
      const big = await call('POST', '/workflows', { name: 'big', spec: { ...validSpec(), variables: { blob: 'x'.repeat(5000) } } });
      expect(big.status).toBe(413);
      expect(big.body.type).toBe('urn:problem:workflow:spec-too-large');
      const huge = await call('POST', '/workflows', { name: 'huge', spec: { blob: 'x'.repeat(70_000) } });
      expect(huge.status).toBe(413);
    });

    it.each(['text/plain', 'application/x-www-form-urlencoded', 'application/xml'])('answers 415 for a %s body', async (type) => {
      const response = await fetch(`${base}/workflows`, { method: 'POST', headers: { 'content-type': type, ...auth }, body: 'name=x' });
      expect(response.status).toBe(415);
      expect(response.headers.get('content-type')).toContain('application/problem+json');
    });

    it('answers 400 (never 500) for malformed ids and versions, 404 for unknown ones', async () => {
      const { body } = await createWorkflow();
      const id = body['workflowId'] as string;
      for (const path of ['/workflows/123', '/workflows/not-a-uuid', "/workflows/1'%20OR%20'1'='1", `/workflows/${id}x/versions`, '/workflows/%00/published']) {
        const response = await call('GET', path);
        expect([path, response.status]).toEqual([path, 400]);
        expect(response.body.errors).toEqual([{ in: 'path', pointer: '/workflowId', code: 'invalid-format', message: 'must be a UUID' }]);
      }
      for (const path of [`/workflows/${id}/versions/abc`, `/workflows/${id}/versions/0`, `/workflows/${id}/versions/1.5`, `/workflows/${id}/versions/99999999`]) {
        const response = await call('GET', path);
        expect([path, response.status]).toEqual([path, 400]);
        expect(response.body.errors?.map((e) => [e.in, e.pointer])).toEqual([['path', '/version']]);
      }
      for (const [method, path] of [['POST', '/workflows/123/versions/1/publish'], ['PATCH', '/workflows/123/versions/1'], ['POST', '/workflows/123/rollback'], ['POST', '/workflows/123/deactivate'], ['POST', '/workflows/123/reactivate'], ['GET', '/workflows/123/diff?from=1&to=2'], ['POST', `/workflows/${id}/versions/x/publish`]] as const) {
        const body = method === 'PATCH' ? { name: 'x' } : path.endsWith('/rollback') ? { version: 1 } : undefined;
        const response = await call(method, path, body, { 'if-match': '*' });
        expect([method, path, response.status]).toEqual([method, path, 400]);
        expect(response.body.errors?.[0]).toMatchObject({ in: 'path', pointer: path.includes('/x/') ? '/version' : '/workflowId' });
      }
      expect((await call('GET', `/workflows/${randomUUID()}`)).status).toBe(404);
      expect((await call('GET', `/workflows/${id}/versions/99`)).body.type).toBe('urn:problem:workflow:version-not-found');
      expect((await call('GET', `/workflows/${randomUUID()}/versions/1`)).body.type).toBe('urn:problem:workflow:not-found');
      expect((await call('GET', `/workflows/${id.toUpperCase()}`)).status).toBe(200);
    });
  });

  describe('versions', () => {
    it('adds version N+1 carrying metadata over, lists versions newest first, and guards with If-Match', async () => {
      const created = await createWorkflow();
      const id = created.body['workflowId'] as string;
      const v2 = await call('POST', `/workflows/${id}/versions`, { spec: validSpec('Later') }, { 'if-match': created.headers.get('etag')! });
      expect(v2.status).toBe(201);
      expect(v2.body).toMatchObject({ version: 2, name: 'Airtime', tags: ['airtime'], environment: 'production' });
      const stale = await call('POST', `/workflows/${id}/versions`, { spec: validSpec() }, { 'if-match': created.headers.get('etag')! });
      expect(stale.status).toBe(412);
      const versions = await call('GET', `/workflows/${id}/versions`);
      expect((versions.body as unknown as { version: number }[]).map((v) => v.version)).toEqual([2, 1]);
      expect((await call('POST', `/workflows/${randomUUID()}/versions`, { spec: validSpec() })).status).toBe(404);
    });

    it('lets one of two concurrent clients add version N+1; the other gets 409', async () => {
      const created = await createWorkflow();
      const id = created.body['workflowId'] as string;
      const etag = created.headers.get('etag')!;
      const results = await Promise.all([1, 2].map(() => call('POST', `/workflows/${id}/versions`, { spec: validSpec() }, { 'if-match': etag })));
      expect(results.map((r) => r.status).sort()).toEqual([201, expect.any(Number)]);
      const loser = results.find((r) => r.status !== 201)!;
      expect([409, 412]).toContain(loser.status);
      const racing = await Promise.all([1, 2, 3].map(() => call('POST', `/workflows/${id}/versions`, { spec: validSpec() })));
      const statuses = racing.map((r) => r.status);
      expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(1);
      expect(statuses.every((s) => s === 201 || s === 409)).toBe(true);
      const conflict = racing.find((r) => r.status === 409);
      if (conflict) expect(conflict.body.type).toBe('urn:problem:workflow:version-conflict');
    });

    it('edits a draft only with a matching If-Match (428 without, 412 stale), and never a published version (409)', async () => {
      const created = await createWorkflow();
      const id = created.body['workflowId'] as string;
      expect((await call('PATCH', `/workflows/${id}/versions/1`, { name: 'Renamed' })).status).toBe(428);
      expect((await call('PATCH', `/workflows/${id}/versions/1`, { name: 'Renamed' }, { 'if-match': '"stale"' })).status).toBe(412);
      const edited = await call('PATCH', `/workflows/${id}/versions/1`, { name: 'Renamed', spec: validSpec('Edited') }, { 'if-match': created.headers.get('etag')! });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({ name: 'Renamed', spec: validSpec('Edited') });
      expect(edited.headers.get('etag')).not.toBe(created.headers.get('etag'));
      expect((await call('PATCH', `/workflows/${id}/versions/1`, {}, { 'if-match': '*' })).status).toBe(400);
      expect((await call('POST', `/workflows/${id}/versions/1/publish`)).status).toBe(200);
      const immutable = await call('PATCH', `/workflows/${id}/versions/1`, { name: 'Again' }, { 'if-match': '*' });
      expect(immutable.status).toBe(409);
      expect(immutable.body.type).toBe('urn:problem:workflow:published-version-immutable');
    });
  });

  describe('publish and roll back', () => {
    it('refuses to publish an invalid spec with the same errors as validate, create and edit: { pointer, code, message }, pointers into the spec', async () => {
      const created = await createWorkflow({ spec: invalidSpec() });
      const id = created.body['workflowId'] as string;
      const refused = await call('POST', `/workflows/${id}/versions/1/publish`);
      expect(refused.status).toBe(400);
      expect(refused.body.type).toBe('urn:problem:workflow:invalid-spec');
      expect(refused.body.errors).toEqual(expect.arrayContaining([{ pointer: '/nodes/0/options/0/next', code: 'unknown-node', message: expect.any(String) }]));
      const validated = await call('POST', '/workflows/validate', invalidSpec());
      expect(refused.body.errors).toEqual(validated.body['errors']);
      expect(refused.body.errors).toEqual((created.body['validation'] as { errors: unknown[] }).errors);
      const edited = await call('PATCH', `/workflows/${id}/versions/1`, { spec: invalidSpec() }, { 'if-match': created.headers.get('etag')! });
      expect(refused.body.errors).toEqual((edited.body['validation'] as { errors: unknown[] }).errors);
      const rolledBack = await call('POST', `/workflows/${id}/rollback`, { version: 1 });
      expect([rolledBack.status, rolledBack.body.errors]).toEqual([400, refused.body.errors]);
      expect((await call('GET', `/workflows/${id}/published`)).status).toBe(404);
    });

    it('publishes once (idempotent), serves the latest published version, and rolls back by publishing an old spec as a new version', async () => {
      const created = await createWorkflow();
      const id = created.body['workflowId'] as string;
      const published = await call('POST', `/workflows/${id}/versions/1/publish`, undefined, { 'if-match': created.headers.get('etag')! });
      expect(published.body).toMatchObject({ status: 'published', version: 1 });
      expect(typeof published.body['publishedAt']).toBe('string');
      const again = await call('POST', `/workflows/${id}/versions/1/publish`);
      expect(again.body['publishedAt']).toBe(published.body['publishedAt']);
      await call('POST', `/workflows/${id}/versions`, { spec: validSpec('v2') });
      await call('POST', `/workflows/${id}/versions/2/publish`);
      expect((await call('GET', `/workflows/${id}/published`)).body['version']).toBe(2);

      const rolledBack = await call('POST', `/workflows/${id}/rollback`, { version: 1 });
      expect(rolledBack.status).toBe(201);
      expect(rolledBack.body).toMatchObject({ version: 3, status: 'published', spec: validSpec() });
      expect((await call('GET', `/workflows/${id}/published`)).body['version']).toBe(3);
      expect((await call('GET', `/workflows/${id}/versions/2`)).body['spec']).toEqual(validSpec('v2'));
      expect((await call('POST', `/workflows/${id}/rollback`, { version: 42 })).status).toBe(404);
      expect((await call('POST', `/workflows/${id}/rollback`, { version: 'one' })).status).toBe(400);
    });

    describe('USSD service codes', () => {
      // Team default may claim any code here; grants themselves are tested with other teams below.
      const code = () => `*${Math.floor(Math.random() * 900_000) + 100_000}#`;
      beforeAll(() => grantServiceCodes(database.url, 'default', ['*']));
      afterAll(() => sql(`DELETE FROM service_code_grants WHERE team = 'default' AND pattern = '*'`));
      const ussdSpec = (serviceCode: string, environments: string[]) => ({ ...validSpec(), triggers: [{ type: 'ussd', serviceCode, environments, entry: 'menu' }] });
      async function publishNew(spec: unknown) {
        const created = await createWorkflow({ spec });
        const id = created.body['workflowId'] as string;
        return { id, published: await call('POST', `/workflows/${id}/versions/1/publish`) };
      }

      it('refuses to publish a second workflow claiming a code and environment that another active workflow answers', async () => {
        const shared = code();
        const first = await publishNew(ussdSpec(shared, ['production', 'staging']));
        expect(first.published.status).toBe(200);
        const second = await publishNew(ussdSpec(shared, ['staging']));
        expect(second.published.status).toBe(409);
        expect(second.published.body).toMatchObject({
          type: 'urn:problem:workflow:ussd-claim-conflict',
          conflicts: [{ serviceCode: shared, environment: 'staging', heldBy: first.id }],
        });
        expect((await call('GET', `/workflows/${second.id}/versions/1`)).body['status']).toBe('draft'); // nothing published
        // Another environment of the same code is free.
        expect((await publishNew(ussdSpec(shared, ['qa']))).published.status).toBe(200);
      });

      it('lets one of two racing publishes of the same claim win', async () => {
        const shared = code();
        const [a, b] = await Promise.all([createWorkflow({ spec: ussdSpec(shared, ['production']) }), createWorkflow({ spec: ussdSpec(shared, ['production']) })]);
        const results = await Promise.all([a, b].map((w) => call('POST', `/workflows/${w.body['workflowId'] as string}/versions/1/publish`)));
        expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
      });

      it('frees the claim when the holder deactivates or publishes a version without it, and refuses a reactivation that would clash', async () => {
        const shared = code();
        const holder = await publishNew(ussdSpec(shared, ['production']));
        expect((await call('POST', `/workflows/${holder.id}/deactivate`)).status).toBe(200);
        const taker = await publishNew(ussdSpec(shared, ['production']));
        expect(taker.published.status).toBe(200);
        const reactivated = await call('POST', `/workflows/${holder.id}/reactivate`);
        expect(reactivated.status).toBe(409);
        expect(reactivated.body['conflicts']).toEqual([{ serviceCode: shared, environment: 'production', heldBy: taker.id }]);
        expect((await call('GET', `/workflows/${holder.id}/versions/1`)).body['isActive']).toBe(false); // stayed inactive

        // The taker moves to another code in version 2; the old code is free again.
        await call('POST', `/workflows/${taker.id}/versions`, { spec: ussdSpec(code(), ['production']) });
        expect((await call('POST', `/workflows/${taker.id}/versions/2/publish`)).status).toBe(200);
        expect((await call('POST', `/workflows/${holder.id}/reactivate`)).status).toBe(200);
        // Rolling the taker back to version 1 would take the code again: refused.
        expect((await call('POST', `/workflows/${taker.id}/rollback`, { version: 1 })).status).toBe(409);
      });
    });
  });

  it('diffs two versions with JSON pointer paths', async () => {
    const created = await createWorkflow();
    const id = created.body['workflowId'] as string;
    await call('POST', `/workflows/${id}/versions`, { name: 'Airtime v2', spec: validSpec('See you') });
    const diff = await call('GET', `/workflows/${id}/diff?from=1&to=2`);
    expect(diff.status).toBe(200);
    const changes = diff.body['changes'] as { op: string; path: string; to?: unknown }[];
    expect(changes).toEqual(expect.arrayContaining([expect.objectContaining({ op: 'replace', path: '/name', to: 'Airtime v2' })]));
    expect(changes.some((c) => c.path.startsWith('/spec/nodes') && c.to === 'See you')).toBe(true);
    expect((await call('GET', `/workflows/${id}/diff?from=1`)).status).toBe(400);
    expect((await call('GET', `/workflows/${id}/diff?from=1&to=9`)).status).toBe(404);
  });

  describe('listing', () => {
    const scope = `s${randomUUID().slice(0, 8)}`;
    const ids: string[] = [];
    beforeAll(async () => {
      for (let i = 0; i < 5; i++) {
        const created = await createWorkflow({ name: `${scope} flow ${i}`, tags: [scope, i % 2 ? 'odd' : 'even'], environment: i < 3 ? 'production' : 'staging' });
        ids.push(created.body['workflowId'] as string);
      }
    });

    const names = (body: Record<string, unknown>) => (body['items'] as { name: string }[]).map((i) => i.name);

    it('lists active workflows newest first, with filters, and deactivation hides (never deletes)', async () => {
      const all = await call('GET', `/workflows?tags=${scope}`);
      expect(names(all.body)).toEqual([4, 3, 2, 1, 0].map((i) => `${scope} flow ${i}`));
      expect(names((await call('GET', `/workflows?tags=${scope},odd&tagMode=all`)).body)).toEqual([`${scope} flow 3`, `${scope} flow 1`]);
      expect(names((await call('GET', `/workflows?tags=${scope}&environment=staging`)).body)).toHaveLength(2);
      expect(names((await call('GET', `/workflows?q=${scope}%20FLOW%202`)).body)).toEqual([`${scope} flow 2`]);
      expect((await call('GET', `/workflows?tags=${scope}&createdBy=nobody`)).body['items']).toEqual([]);

      expect((await call('POST', `/workflows/${ids[0]}/deactivate`)).body).toMatchObject({ isActive: false, versions: 1 });
      expect(names((await call('GET', `/workflows?tags=${scope}`)).body)).not.toContain(`${scope} flow 0`);
      expect((await call('GET', `/workflows/${ids[0]}`)).body['isActive']).toBe(false);
      await call('POST', `/workflows/${ids[0]}/reactivate`);
      expect(names((await call('GET', `/workflows?tags=${scope}`)).body)).toContain(`${scope} flow 0`);
      expect((await call('POST', `/workflows/${randomUUID()}/deactivate`)).status).toBe(404);
    });

    it('pages with limit/offset and with the cursor, and each page says how to get the next', async () => {
      const first = await call('GET', `/workflows?tags=${scope}&limit=2`);
      const page = first.body['page'] as { next: string; nextCursor: string; offset: number };
      expect(page.offset).toBe(0);
      expect(page.next).toContain('cursor=');
      const second = await call('GET', page.next);
      const third = await call('GET', (second.body['page'] as { next: string }).next);
      expect([...names(first.body), ...names(second.body), ...names(third.body)]).toEqual([4, 3, 2, 1, 0].map((i) => `${scope} flow ${i}`));
      expect((third.body['page'] as { next: string | null }).next).toBeNull();
      expect(names((await call('GET', `/workflows?tags=${scope}&limit=2&offset=2`)).body)).toEqual(names(second.body));
    });

    it.each([
      ['limit=0'],
      ['limit=1000'],
      ['offset=-1'],
      ['offset=20000'],
      ['offset=0&cursor=abc'],
      ['cursor=!!!'],
      ['cursor=bm90LWEtdXVpZA'],
      ['tagMode=some'],
      ['unknown=1'],
      [`q=${'x'.repeat(300)}`],
    ])('refuses ?%s with 400 naming the query field', async (query) => {
      const response = await call('GET', `/workflows?${query}`);
      expect(response.status).toBe(400);
      expect(response.body.errors?.[0]?.in).toBe('query');
    });

    it('treats hostile search text as text', async () => {
      for (const q of ["' OR 1=1 --", '%', '_', '\\', '"; DROP TABLE workflows; --']) {
        const response = await call('GET', `/workflows?q=${encodeURIComponent(q)}`);
        expect(response.status).toBe(200);
        expect(response.body['items']).toEqual([]);
      }
    });
  });

  describe('spec tooling', () => {
    it('serves the JSON Schema of specs', async () => {
      const schema = await call('GET', '/workflows/schema');
      expect(schema.status).toBe(200);
      expect(schema.body['type']).toBe('object');
      expect(JSON.stringify(schema.body)).toContain('ussd.menu');
    });

    it('validates a spec without storing it', async () => {
      expect((await call('POST', '/workflows/validate', validSpec())).body).toEqual({ valid: true, errors: [] });
      const invalid = await call('POST', '/workflows/validate', invalidSpec());
      expect(invalid.body['valid']).toBe(false);
      expect((await call('POST', '/workflows/validate', '"just a string"')).status).toBe(400);
    });

    it.each([
      ['__proto__', '{"__proto__":{"polluted":true},"nodes":[]}'],
      ['constructor.prototype', '{"constructor":{"prototype":{"polluted":true}},"nodes":[]}'],
    ])('refuses prototype-poisoning keys (%s) with 400 and pollutes nothing', async (_name, raw) => {
      const response = await call('POST', '/workflows/validate', raw);
      expect(response.status).toBe(400);
      expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    });

    it('validates deeply nested and wide input without crashing', async () => {
      const deep = `${'{"a":'.repeat(600)}1${'}'.repeat(600)}`;
      const nested = await call('POST', '/workflows/validate', `{"nodes":${deep}}`);
      expect(nested.status).toBe(200);
      expect(nested.body['valid']).toBe(false);
      const wide = { specVersion: 1, nodes: Array.from({ length: 100 }, () => ({ id: 'same', type: 'end' })) };
      const duplicates = await call('POST', '/workflows/validate', wide);
      expect(duplicates.status).toBe(200);
      expect((duplicates.body['errors'] as unknown[]).length).toBeLessThanOrEqual(101);
      // Past WORKFLOW_SPEC_MAX_BYTES (4096 here) nothing is validated at all.
      const huge = { specVersion: 1, nodes: Array.from({ length: 3000 }, (_, i) => ({ id: `n${i}`, type: 'end' })) };
      expect((await call('POST', '/workflows/validate', huge)).status).toBe(413);
    });
  });

  describe('service-code grants', () => {
    const ussdSpec = (...serviceCodes: string[]) => ({
      ...validSpec(),
      triggers: [{ type: 'http', entry: 'menu' }, ...serviceCodes.map((serviceCode) => ({ type: 'ussd', serviceCode, environments: ['production'], entry: 'menu' }))],
    });
    let loans: { authorization: string };
    let airtime: { authorization: string };

    beforeAll(async () => {
      loans = (await createTestKey(database.url, 'publisher', 'loans')).headers;
      airtime = (await createTestKey(database.url, 'publisher', 'airtime')).headers;
      await grantServiceCodes(database.url, 'loans', ['*500*', '*600*1#']);
      await grantServiceCodes(database.url, 'airtime', ['*700*']);
    });

    async function draft(key: { authorization: string }, spec: unknown) {
      const created = await call('POST', '/workflows', { name: 'Loans', spec }, key);
      expect(created.status).toBe(201);
      return created.body['workflowId'] as string;
    }

    it('publishes a code a prefix or an exact grant of the team covers', async () => {
      for (const serviceCode of ['*500*1#', '*500*12*3#', '*600*1#']) {
        const id = await draft(loans, ussdSpec(serviceCode));
        expect((await call('POST', `/workflows/${id}/versions/1/publish`, undefined, loans)).status).toBe(200);
      }
    });

    it.each([
      ['an exact grant covers only its own code', '*600*2#'],
      ['a prefix ends at a * boundary', '*5001#'],
      ['a prefix covers only codes below it', '*500#'],
      ["another team's grant does not count", '*700*1#'],
    ])('refuses to publish a code outside the grants (%s): 409 pointing at the trigger, nothing claimed', async (_why, serviceCode) => {
      const id = await draft(loans, ussdSpec('*500*7#', serviceCode));
      const refused = await call('POST', `/workflows/${id}/versions/1/publish`, undefined, loans);
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({
        type: 'urn:problem:workflow:service-code-not-granted',
        team: 'loans',
        serviceCodes: [serviceCode],
        errors: [{ pointer: '/triggers/2/serviceCode', code: 'service-code-not-granted' }],
      });
      expect(refused.body.detail).toContain(serviceCode);
      expect((await call('GET', `/workflows/${id}/versions/1`, undefined, loans)).body['status']).toBe('draft');
      expect(await claimsOf(id)).toEqual([]);
    });

    it('checks roll-backs and reactivations against the grants as they are now', async () => {
      const id = await draft(airtime, ussdSpec('*700*1#'));
      expect((await call('POST', `/workflows/${id}/versions/1/publish`, undefined, airtime)).status).toBe(200);
      const v2 = await call('POST', `/workflows/${id}/versions`, { spec: ussdSpec('*700*2#') }, airtime);
      expect(v2.status).toBe(201);
      expect((await call('POST', `/workflows/${id}/versions/2/publish`, undefined, airtime)).status).toBe(200);
      await sql(`DELETE FROM service_code_grants WHERE team = 'airtime'`);
      await grantServiceCodes(database.url, 'airtime', ['*700*2#']);

      const rollback = await call('POST', `/workflows/${id}/rollback`, { version: 1 }, airtime);
      expect(rollback.status).toBe(409);
      expect(rollback.body).toMatchObject({ type: 'urn:problem:workflow:service-code-not-granted', errors: [{ pointer: '/triggers/1/serviceCode' }] });
      expect((await call('GET', `/workflows/${id}/versions`, undefined, airtime)).body).toHaveLength(2); // no version 3
      expect(await claimsOf(id)).toEqual(['*700*2#']);

      // Version 2's code is still granted: deactivating and reactivating works; without the grant it does not.
      expect((await call('POST', `/workflows/${id}/deactivate`, undefined, airtime)).status).toBe(200);
      await sql(`DELETE FROM service_code_grants WHERE team = 'airtime'`);
      const reactivated = await call('POST', `/workflows/${id}/reactivate`, undefined, airtime);
      expect(reactivated.status).toBe(409);
      expect(reactivated.body.type).toBe('urn:problem:workflow:service-code-not-granted');
      await grantServiceCodes(database.url, 'airtime', ['*700*']);
      expect((await call('POST', `/workflows/${id}/reactivate`, undefined, airtime)).status).toBe(200);
      expect(await claimsOf(id)).toEqual(['*700*2#']);
    });
  });

  describe('audit log', () => {
    const ussdSpec = (serviceCode: string) => ({ ...validSpec(), triggers: [{ type: 'ussd', serviceCode, environments: ['production', 'staging'], entry: 'menu' }] });
    beforeAll(() => grantServiceCodes(database.url, 'default', ['*800*']));

    it('records each change once, with the actor of the key (never a header), its team, target and request id', async () => {
      const hostile = { 'x-user-id': 'mallory', 'x-actor': 'mallory' };
      const created = await call('POST', '/workflows', { name: 'Audited', spec: validSpec() }, { ...hostile, 'x-request-id': 'audit-create-1' });
      expect(created.status).toBe(201);
      const id = created.body['workflowId'] as string;
      const v2 = await call('POST', `/workflows/${id}/versions`, { spec: ussdSpec('*800*1#') }, { 'x-request-id': 'audit-version-2' });
      const edited = await call('PATCH', `/workflows/${id}/versions/2`, { description: 'edited' }, { 'if-match': v2.headers.get('etag')!, 'x-request-id': 'audit-edit-2' });
      expect(edited.status).toBe(200);
      const published = await call('POST', `/workflows/${id}/versions/2/publish`);
      expect(published.status).toBe(200);
      expect((await call('POST', `/workflows/${id}/rollback`, { version: 1 }, { 'x-request-id': 'audit-rollback' })).status).toBe(201);
      expect((await call('POST', `/workflows/${id}/deactivate`, undefined, { 'x-request-id': 'audit-deactivate' })).status).toBe(200);
      expect((await call('POST', `/workflows/${id}/reactivate`, undefined, { 'x-request-id': 'audit-reactivate' })).status).toBe(200);

      const rows = await auditOf(id);
      expect(rows.map((r) => [r.action, r.request_id, r.details])).toEqual([
        ['workflow.create', 'audit-create-1', { version: 1 }],
        ['workflow.version.create', 'audit-version-2', { version: 2 }],
        ['workflow.version.edit', 'audit-edit-2', { version: 2, fields: ['description'] }],
        ['workflow.publish', published.headers.get('x-request-id'), { version: 2 }],
        ['workflow.rollback', 'audit-rollback', { version: 3, fromVersion: 1 }],
        ['workflow.deactivate', 'audit-deactivate', {}],
        ['workflow.reactivate', 'audit-reactivate', {}],
      ]);
      for (const row of rows) expect(row).toMatchObject({ actor: 'default/alice', actor_kind: 'api-key', team: 'default', target_type: 'workflow', target_id: id });
      expect(published.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/); // generated when none was sent

      // Publishing version 2 took *800*1# in two environments: one ussd.claim row each, and none again
      // for codes the workflow already held.
      const claims = await sql<{ action: string; target_type: string; target_id: string; team: string; details: Record<string, unknown> }>(
        `SELECT action, target_type, target_id, team, details FROM audit_log WHERE action = 'ussd.claim' AND details->>'workflowId' = $1 ORDER BY id`,
        [id],
      );
      expect(claims).toEqual([
        { action: 'ussd.claim', target_type: 'service-code', target_id: '*800*1#', team: 'default', details: { environment: 'production', workflowId: id } },
        { action: 'ussd.claim', target_type: 'service-code', target_id: '*800*1#', team: 'default', details: { environment: 'staging', workflowId: id } },
      ]);
    });

    it('writes no row for a change that fails (validation, precondition, conflict, grant)', async () => {
      const before = await sql<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`);
      expect((await call('POST', '/workflows', { name: '', spec: validSpec() })).status).toBe(400);
      const holder = await call('POST', '/workflows', { name: 'Holder', spec: ussdSpec('*800*2#') });
      const holderId = holder.body['workflowId'] as string;
      const taker = await call('POST', '/workflows', { name: 'Taker', spec: ussdSpec('*800*2#') });
      const takerId = taker.body['workflowId'] as string;
      const ungranted = await call('POST', '/workflows', { name: 'Ungranted', spec: ussdSpec('*801*1#') });
      const afterCreates = (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`))[0]!.n;
      expect(afterCreates).toBe(before[0]!.n + 3);

      expect((await call('POST', `/workflows/${holderId}/versions`, { spec: validSpec() }, { 'if-match': '"stale"' })).status).toBe(412);
      expect((await call('PATCH', `/workflows/${holderId}/versions/1`, { name: 'x' })).status).toBe(428);
      expect((await call('POST', `/workflows/${holderId}/versions/1/publish`)).status).toBe(200); // +1 publish, +2 claims
      expect((await call('POST', `/workflows/${takerId}/versions/1/publish`)).status).toBe(409);
      expect((await call('POST', `/workflows/${ungranted.body['workflowId'] as string}/versions/1/publish`)).status).toBe(409);
      expect((await call('POST', `/workflows/${holderId}/versions/1/publish`)).status).toBe(200); // already published: no change, no row
      expect((await call('POST', `/workflows/${takerId}/rollback`, { version: 9 })).status).toBe(404);
      expect((await sql<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`))[0]!.n).toBe(afterCreates + 3);
    });
  });

  async function sql<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async function claimsOf(workflowId: string): Promise<string[]> {
    return (await sql<{ service_code: string }>(`SELECT DISTINCT service_code FROM ussd_claims WHERE workflow_id = $1 ORDER BY 1`, [workflowId])).map((r) => r.service_code);
  }

  async function auditOf(workflowId: string) {
    return sql<{ action: string; actor: string; actor_kind: string; team: string; target_type: string; target_id: string; request_id: string; details: Record<string, unknown> }>(
      `SELECT action, actor, actor_kind, team, target_type, target_id, request_id, details FROM audit_log WHERE target_type = 'workflow' AND target_id = $1 ORDER BY id`,
      [workflowId],
    );
  }
});
