import { Module } from '@nestjs/common';
import pg from 'pg';
import { AuthModule } from '@ussd/platform-auth';
import { migrateDatabase } from '@ussd/platform-database';
import { bootstrap, PlatformModule } from '@ussd/platform-http';
import { SESSION_STORE } from '@ussd/session-data-access';
import type { SessionStore } from '@ussd/session-domain';
import type { RunningApp } from '@ussd/platform-http';
import { createTestDatabase, createTestKey, silentLogger, type TestDatabase } from '@ussd/platform-testing';
import { startApi } from './route-table.test-helpers.js';

type Body = Record<string, unknown> & { type?: string; errors?: { pointer: string; code: string }[] };
interface AuditItem {
  id: string;
  at: string;
  actor: string;
  actorKind: string;
  team: string | null;
  action: string;
  targetType: string;
  targetId: string;
  requestId: string | null;
  details: Record<string, unknown>;
}

@Module({})
class DevelopmentRoot {}

describe('the development default', () => {
  it('grants * to team default with the first development key, once, and records it as the system', async () => {
    const database = await createTestDatabase();
    const client = new pg.Client({ connectionString: database.url });
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write; // the key is printed once: keep it out of the test output
    try {
      await migrateDatabase(database.url, silentLogger());
      const start = () =>
        bootstrap({
          defaults: { appName: 'api', port: 0 },
          env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'silent', DATABASE_URL: database.url },
          rootModule: (context) => ({ module: DevelopmentRoot, imports: [PlatformModule.forRoot(context), AuthModule.forRoot({ developmentKey: true })] }),
          handleSignals: false,
          exit: () => undefined,
        });
      await (await start()).app.close();
      await client.connect();
      const grants = async () => (await client.query(`SELECT team, pattern, created_by FROM service_code_grants`)).rows;
      expect(await grants()).toEqual([{ team: 'default', pattern: '*', created_by: 'npm start (first run)' }]);
      const rows = (await client.query(`SELECT actor, actor_kind, team, action, target_id FROM audit_log`)).rows;
      expect(rows).toEqual([{ actor: 'npm start (first run)', actor_kind: 'system', team: 'default', action: 'grant.add', target_id: '*' }]);
      // Taken away by an admin, it is not given back by the next start (a live key exists).
      await client.query(`DELETE FROM service_code_grants`);
      await (await start()).app.close();
      expect(await grants()).toEqual([]);
    } finally {
      process.stdout.write = write;
      await client.end().catch(() => undefined);
      await database.drop();
    }
  });
});

/** Service-code grants and the audit log through the api, on real PostgreSQL. */
describe('service-code grants and the audit log over HTTP', () => {
  let database: TestDatabase;
  let running: RunningApp;
  let admin: { authorization: string };
  let publisher: { authorization: string };
  let viewer: { authorization: string };

  beforeAll(async () => {
    ({ running, database } = await startApi());
    admin = (await createTestKey(database.url, 'admin', 'default', 'root')).headers;
    publisher = (await createTestKey(database.url, 'publisher', 'loans', 'deployer')).headers;
    viewer = (await createTestKey(database.url, 'viewer', 'loans', 'reader')).headers;
  });
  afterAll(async () => {
    await running?.app.close();
    await database?.drop();
  });

  async function call(headers: Record<string, string>, method: string, path: string, body?: unknown) {
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : {}) as Body };
  }

  async function audit(query: string): Promise<{ items: AuditItem[]; page: { limit: number; nextCursor: string | null; next: string | null } }> {
    const response = await call(admin, 'GET', `/audit${query}`);
    expect([query, response.status]).toEqual([query, 200]);
    return response.body as never;
  }

  async function rowCount(): Promise<number> {
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      return (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log`)).rows[0]!.n;
    } finally {
      await client.end();
    }
  }

  describe('grants', () => {
    it('adds (201, then 200 unchanged), lists and removes a grant; # travels URL-encoded', async () => {
      const added = await call({ ...admin, 'x-request-id': 'grant-add-1' }, 'POST', '/teams/loans/service-codes', { pattern: '*384*12#' });
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({ team: 'loans', pattern: '*384*12#', createdBy: 'default/root' });
      expect((await call(admin, 'POST', '/teams/loans/service-codes', { pattern: '*384*12#' })).status).toBe(200);
      expect((await call(admin, 'POST', '/teams/loans/service-codes', { pattern: '*385*' })).status).toBe(201);
      const listed = await call(admin, 'GET', '/teams/loans/service-codes');
      expect((listed.body['items'] as { pattern: string }[]).map((g) => g.pattern)).toEqual(['*384*12#', '*385*']);

      expect((await call({ ...admin, 'x-request-id': 'grant-remove-1' }, 'DELETE', `/teams/loans/service-codes/${encodeURIComponent('*384*12#')}`)).status).toBe(204);
      expect((await call(admin, 'DELETE', '/teams/loans/service-codes/*385*')).status).toBe(204);
      const again = await call(admin, 'DELETE', '/teams/loans/service-codes/*385*');
      expect([again.status, again.body.type]).toEqual([404, 'urn:problem:grant:not-found']);
      expect((await call(admin, 'GET', '/teams/loans/service-codes')).body['items']).toEqual([]);

      const rows = (await audit('?team=loans&targetType=service-code-grant')).items;
      expect(rows.map((r) => [r.action, r.targetId, r.requestId?.startsWith('grant-') ? r.requestId : 'generated'])).toEqual([
        ['grant.remove', '*385*', 'generated'],
        ['grant.remove', '*384*12#', 'grant-remove-1'],
        ['grant.add', '*385*', 'generated'],
        ['grant.add', '*384*12#', 'grant-add-1'],
      ]);
      for (const row of rows) expect(row).toMatchObject({ actor: 'default/root', actorKind: 'api-key', team: 'loans' });
    });

    it('refuses: no key 401, a non-admin 403, malformed patterns and bodies 400, an unknown team 404; and records nothing', async () => {
      const before = await rowCount();
      expect((await call({}, 'GET', '/teams/loans/service-codes')).status).toBe(401);
      for (const key of [publisher, viewer]) {
        expect((await call(key, 'GET', '/teams/loans/service-codes')).status).toBe(403);
        expect((await call(key, 'POST', '/teams/loans/service-codes', { pattern: '*1#' })).status).toBe(403);
        expect((await call(key, 'DELETE', '/teams/loans/service-codes/*1%23')).status).toBe(403);
      }
      for (const pattern of ['*384', '384#', '**', '*38a*', "*1#'; DROP TABLE teams; --", '*1#*', '', `*${'1'.repeat(70)}#`, 12, null]) {
        const refused = await call(admin, 'POST', '/teams/loans/service-codes', { pattern });
        expect([pattern, refused.status, refused.body.errors?.[0]?.pointer]).toEqual([pattern, 400, '/pattern']);
      }
      expect((await call(admin, 'POST', '/teams/loans/service-codes', { pattern: '*1#', team: 'airtime' })).status).toBe(400);
      expect((await call(admin, 'POST', '/teams/loans/service-codes', '[]')).status).toBe(400);
      expect((await call(admin, 'DELETE', '/teams/loans/service-codes/%2A384')).status).toBe(400);
      expect((await call(admin, 'GET', '/teams/Not_A_Team/service-codes')).status).toBe(400);
      for (const [method, path, body] of [
        ['GET', '/teams/nope/service-codes', undefined],
        ['POST', '/teams/nope/service-codes', { pattern: '*1#' }],
        ['DELETE', '/teams/nope/service-codes/*1%23', undefined],
      ] as const) {
        const missing = await call(admin, method, path, body);
        expect([method, missing.status, missing.body.type]).toEqual([method, 404, 'urn:problem:team:not-found']);
      }
      expect(await rowCount()).toBe(before);
    });

    it('lets a team publish what it was granted through the api, and refuses the rest', async () => {
      const ussd = (serviceCode: string) => ({
        specVersion: 1,
        settings: { executionTimeoutMs: 10_000, maxSteps: 10 },
        triggers: [{ type: 'ussd', serviceCode, environments: ['production'], entry: 'done' }],
        nodes: [{ id: 'done', type: 'ussd.end', text: 'Bye' }],
      });
      const publish = async (serviceCode: string) => {
        const created = await call(publisher, 'POST', '/workflows', { name: 'granted', spec: ussd(serviceCode) });
        expect(created.status).toBe(201);
        return call(publisher, 'POST', `/workflows/${created.body['workflowId'] as string}/versions/1/publish`);
      };
      expect((await publish('*386*1#')).body.type).toBe('urn:problem:workflow:service-code-not-granted');
      expect((await call(admin, 'POST', '/teams/loans/service-codes', { pattern: '*386*' })).status).toBe(201);
      expect((await publish('*386*1#')).status).toBe(200);
      expect((await publish('*387*1#')).status).toBe(409);
    });
  });

  describe('GET /audit', () => {
    it('refuses no key (401), every role below admin (403), and malformed filters, limits and cursors (400)', async () => {
      expect((await call({}, 'GET', '/audit')).status).toBe(401);
      for (const key of [publisher, viewer]) expect((await call(key, 'GET', '/audit')).status).toBe(403);
      for (const [query, pointer] of [
        ['?limit=0', '/limit'],
        ['?limit=201', '/limit'],
        ['?limit=1e9', '/limit'],
        ['?limit=ten', '/limit'],
        ['?action=workflow.delete', '/action'],
        ['?team=Loans', '/team'],
        ['?team=x%27%3B%20DROP%20TABLE%20audit_log%3B--', '/team'],
        ['?from=yesterday', '/from'],
        ['?from=2026-11-30T00:00:00Z&to=2026-11-29T00:00:00Z', '/to'],
        [`?targetId=${'x'.repeat(300)}`, '/targetId'],
        ['?actor=%00', '/actor'],
        ['?cursor=!!!', '/cursor'],
        ['?cursor=MTIz', '/cursor'],
        ['?whatever=1', '/whatever'],
      ] as const) {
        const refused = await call(admin, 'GET', `/audit${query}`);
        expect([query, refused.status, refused.body.errors?.[0]?.pointer]).toEqual([query, 400, pointer]);
      }
    });

    it('pages newest first through more than one page without gaps or repeats; a tampered or foreign cursor is 400', async () => {
      for (let i = 0; i < 7; i++) {
        expect((await call(admin, 'POST', '/teams/default/service-codes', { pattern: `*900*${i}#` })).status).toBe(201);
      }
      const everything = (await audit('?team=default&action=grant.add&limit=200')).items.filter((r) => r.targetId.startsWith('*900*'));
      expect(everything.map((r) => r.targetId)).toEqual(['*900*6#', '*900*5#', '*900*4#', '*900*3#', '*900*2#', '*900*1#', '*900*0#']);

      const seen: string[] = [];
      let page = await audit('?team=default&action=grant.add&limit=3');
      const first = page;
      for (let pages = 1; ; pages++) {
        expect(page.items.length).toBeLessThanOrEqual(3);
        seen.push(...page.items.map((r) => r.id));
        if (page.page.next === null) {
          expect(pages).toBeGreaterThan(2);
          break;
        }
        expect(page.page.next).toContain('team=default');
        page = await audit(page.page.next.slice('/audit'.length));
      }
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen.map(Number)).toEqual([...seen.map(Number)].sort((a, b) => b - a));
      expect(seen.filter((id) => everything.some((r) => r.id === id))).toEqual(everything.map((r) => r.id));

      const cursor = first.page.nextCursor!;
      const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
      const forged = Buffer.from(decoded.replace(/^\d+/, (id) => String(Number(id) + 1)), 'utf8').toString('base64url');
      for (const query of [`?team=default&action=grant.add&limit=3&cursor=${forged}`, `?team=airtime&action=grant.add&limit=3&cursor=${cursor}`, `?limit=3&cursor=${cursor}`]) {
        const refused = await call(admin, 'GET', `/audit${query}`);
        expect([query, refused.status, refused.body.errors?.[0]?.pointer]).toEqual([query, 400, '/cursor']);
      }
    });

    it('filters by actor, target, and time', async () => {
      const mine = await audit(`?actor=${encodeURIComponent('default/root')}&targetType=service-code-grant&targetId=${encodeURIComponent('*900*3#')}`);
      expect(mine.items.map((r) => r.action)).toEqual(['grant.add']);
      const at = mine.items[0]!.at;
      expect((await audit(`?targetId=${encodeURIComponent('*900*3#')}&from=${encodeURIComponent(at)}`)).items).toHaveLength(1);
      expect((await audit(`?targetId=${encodeURIComponent('*900*3#')}&to=${encodeURIComponent(at)}`)).items).toHaveLength(0);
      expect((await audit('?actor=nobody')).items).toEqual([]);
    });
  });

  describe('changes outside the workflow registry', () => {
    const httpSpec = (nodes: unknown[], entry: string) => ({ specVersion: 1, settings: { executionTimeoutMs: 60_000, maxSteps: 10 }, triggers: [{ type: 'http', entry }], nodes });

    it('records execution.retry and execution.cancel with the execution id, and nothing for a refused cancel', async () => {
      const created = await call(publisher, 'POST', '/workflows', {
        name: 'pausing',
        spec: httpSpec([{ id: 'menu', type: 'ussd.menu', text: 'Choose', options: [{ key: '1', label: 'Done', next: 'bye' }] }, { id: 'bye', type: 'ussd.end', text: 'Bye' }], 'menu'),
      });
      const workflowId = created.body['workflowId'] as string;
      expect((await call(publisher, 'POST', `/workflows/${workflowId}/versions/1/publish`)).status).toBe(200);
      const ran = await call(publisher, 'POST', `/workflows/${workflowId}/executions`, { mode: 'sync' });
      expect([ran.status, ran.body['status']]).toEqual([200, 'paused']);
      const executionId = ran.body['executionId'] as string;
      // The team sees its execution once its first event is logged (milliseconds later).
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && (await call(publisher, 'GET', `/executions/${executionId}`)).status !== 200) await new Promise((r) => setTimeout(r, 50));

      const canceled = await call({ ...publisher, 'x-request-id': 'cancel-1' }, 'POST', `/executions/${executionId}/cancel`, {});
      expect(canceled.status).toBe(200);
      const before = await rowCount();
      expect((await call(publisher, 'POST', `/executions/${executionId}/cancel`, {})).status).toBe(409); // already finished
      expect(await rowCount()).toBe(before);

      const retried = await call({ ...publisher, 'x-request-id': 'retry-1' }, 'POST', `/executions/${executionId}/retry`, {});
      expect(retried.status).toBe(202);

      const rows = (await audit(`?targetType=execution&targetId=${executionId}`)).items;
      expect(rows.map((r) => [r.action, r.requestId, r.actor, r.team])).toEqual([
        ['execution.retry', 'retry-1', 'loans/deployer', 'loans'],
        ['execution.cancel', 'cancel-1', 'loans/deployer', 'loans'],
      ]);
      expect(rows[0]!.details).toEqual({ retryExecutionId: retried.body['executionId'], workflowId });
    });

    it('records session.delete with the session id, never the phone number', async () => {
      const store = running.app.get<SessionStore>(SESSION_STORE);
      const now = new Date().toISOString();
      await store.commit(
        { sessionId: 'audited-session-1', type: 'ussd', msisdn: '+254712000999', data: { v: 1, gateway: 'africastalking', serviceCode: '*384*1#', environment: 'production' }, createdAt: now, lastActivityAt: now, isActive: true },
        { expectedRevision: null },
      );
      const ended = await call({ ...admin, 'x-request-id': 'end-session-1' }, 'DELETE', '/sessions/audited-session-1');
      expect(ended.status).toBe(200);
      expect((await call(admin, 'DELETE', '/sessions/audited-session-1')).status).toBe(404);
      const rows = (await audit('?action=session.delete')).items.filter((r) => r.targetId === 'audited-session-1');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ actor: 'default/root', targetType: 'session', requestId: 'end-session-1' });
      expect(JSON.stringify(rows)).not.toContain('254712000999');
    });
  });
});
