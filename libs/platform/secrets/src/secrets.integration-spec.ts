import { Module } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { AuthModule } from '@ussd/platform-auth';
import { migrateDatabase } from '@ussd/platform-database';
import { bootstrap, PlatformModule, type RunningApp } from '@ussd/platform-http';
import { createTestDatabase, createTestKey, silentLogger, type TestDatabase } from '@ussd/platform-testing';
import { SecretsModule } from './secrets.module.js';

@Module({})
class TestRoot {}

/** Every value this file sends; none may come back in a response or reach a log line. */
const VALUES = ['tok_live_alpha_5f1c9e', 'tok_live_beta_88a0d2', 'tok_live_gamma_0b7e44', 'tok_live_hostile_9c2d'];
const [ALPHA, BETA, GAMMA, HOSTILE] = VALUES as [string, string, string, string];

interface Answer {
  status: number;
  text: string;
  body: Record<string, unknown> & { errors?: { pointer: string; code: string }[]; items?: Record<string, unknown>[] };
}

describe('/secrets against real PostgreSQL', () => {
  let database: TestDatabase;
  let running: RunningApp;
  let keyless: RunningApp;
  const logs: string[] = [];
  const answers: string[] = [];
  const keys: Record<string, { authorization: string }> = {};

  async function start(env: Record<string, string>): Promise<RunningApp> {
    const destination = new PassThrough();
    destination.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    return bootstrap({
      defaults: { appName: 'test', port: 0 },
      env: { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'trace', LOG_FORMAT: 'json', DATABASE_URL: database.url, ...env },
      rootModule: (context) => ({ module: TestRoot, imports: [PlatformModule.forRoot(context), AuthModule.forRoot({ developmentKey: false }), SecretsModule.forRoot()] }),
      handleSignals: false,
      logDestination: destination,
      exit: () => undefined,
    });
  }

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    running = await start({ SECRETS_KEYS: `1:${randomBytes(32).toString('base64')}` });
    keyless = await start({});
    for (const [team, role] of [
      ['loans', 'viewer'],
      ['loans', 'editor'],
      ['loans', 'publisher'],
      ['airtime', 'publisher'],
      ['airtime', 'viewer'],
      ['ops', 'admin'],
    ] as const) {
      keys[`${team}-${role}`] = (await createTestKey(database.url, role, team, `${team}-${role}`)).headers;
    }
  });
  afterAll(async () => {
    await running?.app.close();
    await keyless?.app.close();
    await database?.drop();
    // The net under every test: no value in any answer, no value in any log line.
    const everything = [...answers, ...logs].join('\n');
    // The capture works: request lines of this file are in it (so an absent value means something).
    expect(logs.join('')).toContain('/secrets/PAYMENTS_TOKEN');
    expect(answers.length).toBeGreaterThan(40);
    for (const value of VALUES) expect(everything).not.toContain(value);
  });

  async function call(method: string, path: string, as: string | undefined, body?: unknown, options: { contentType?: string; app?: RunningApp } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...(as === undefined ? {} : keys[as]) };
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const response = await fetch(`${(options.app ?? running).url}${path}`, { method, headers, ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }) });
    const text = await response.text();
    answers.push(text);
    return { status: response.status, text, body: (text ? JSON.parse(text) : {}) as Answer['body'] };
  }

  it('sets (201), replaces (200) and lists a secret, never answering its value', async () => {
    const created = await call('PUT', '/secrets/PAYMENTS_TOKEN', 'loans-publisher', { value: ALPHA });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ team: 'loans', name: 'PAYMENTS_TOKEN', keyVersion: 1, createdBy: 'loans/loans-publisher', updatedBy: 'loans/loans-publisher' });
    expect(Object.keys(created.body).sort()).toEqual(['createdAt', 'createdBy', 'keyVersion', 'name', 'team', 'updatedAt', 'updatedBy']);
    const replaced = await call('PUT', '/secrets/PAYMENTS_TOKEN', 'loans-publisher', { value: BETA });
    expect(replaced.status).toBe(200);
    const list = await call('GET', '/secrets', 'loans-viewer');
    expect(list.status).toBe(200);
    expect(list.body.items?.map((item) => item['name'])).toEqual(['PAYMENTS_TOKEN']);
    for (const text of [created.text, replaced.text, list.text]) for (const value of VALUES) expect(text).not.toContain(value);
  });

  it('scopes secrets to the team: another team sees none and gets 404 for them', async () => {
    await call('PUT', '/secrets/LOANS_ONLY', 'loans-publisher', { value: GAMMA });
    expect((await call('GET', '/secrets', 'airtime-viewer')).body.items).toEqual([]);
    expect((await call('DELETE', '/secrets/LOANS_ONLY', 'airtime-publisher')).status).toBe(404);
    for (const as of ['airtime-viewer', 'airtime-publisher']) {
      const asked = await call('GET', '/secrets?team=loans', as);
      expect(asked.status).toBe(404);
      expect(asked.body['detail']).toBe('No team loans.');
    }
    expect((await call('PUT', '/secrets/LOANS_ONLY?team=loans', 'airtime-publisher', { value: HOSTILE })).status).toBe(404);
    expect((await call('DELETE', '/secrets/LOANS_ONLY?team=loans', 'airtime-publisher')).status).toBe(404);
    // Same name in another team: a different secret.
    expect((await call('PUT', '/secrets/LOANS_ONLY', 'airtime-publisher', { value: HOSTILE })).status).toBe(201);
    expect((await call('GET', '/secrets', 'loans-viewer')).body.items?.find((i) => i['name'] === 'LOANS_ONLY')).toMatchObject({ team: 'loans', createdBy: 'loans/loans-publisher' });
  });

  it("lets an admin list every team's secrets, or one team's, and act on another team's with ?team=", async () => {
    const all = await call('GET', '/secrets', 'ops-admin');
    expect(new Set(all.body.items?.map((i) => i['team']))).toEqual(new Set(['loans', 'airtime']));
    expect((await call('GET', '/secrets?team=airtime', 'ops-admin')).body.items?.map((i) => i['name'])).toEqual(['LOANS_ONLY']);
    expect((await call('PUT', '/secrets/ADMIN_SET?team=loans', 'ops-admin', { value: GAMMA })).body).toMatchObject({ team: 'loans', createdBy: 'ops/ops-admin' });
    expect((await call('DELETE', '/secrets/ADMIN_SET?team=loans', 'ops-admin')).status).toBe(204);
    expect((await call('DELETE', '/secrets/ADMIN_SET?team=loans', 'ops-admin')).status).toBe(404);
    expect((await call('GET', '/secrets?team=nobody', 'ops-admin')).status).toBe(404);
    expect((await call('PUT', '/secrets/X?team=nobody', 'ops-admin', { value: GAMMA })).status).toBe(404);
  });

  it('answers 401 without a key and 403 below the role each route needs', async () => {
    expect((await call('GET', '/secrets', undefined)).status).toBe(401);
    expect((await call('PUT', '/secrets/A', undefined, { value: HOSTILE })).status).toBe(401);
    expect((await call('DELETE', '/secrets/PAYMENTS_TOKEN', undefined)).status).toBe(401);
    for (const as of ['loans-viewer', 'loans-editor']) {
      expect((await call('PUT', '/secrets/PAYMENTS_TOKEN', as, { value: HOSTILE })).status).toBe(403);
      expect((await call('DELETE', '/secrets/PAYMENTS_TOKEN', as)).status).toBe(403);
    }
    expect((await call('GET', '/secrets', 'loans-viewer')).body.items?.map((i) => i['name'])).toContain('PAYMENTS_TOKEN');
  });

  it('refuses malformed names, bad bodies, oversized values and unknown fields, never echoing the value', async () => {
    for (const name of ['lower', '1ABC', 'A-B', `A${'B'.repeat(64)}`, '%20A', 'A%00']) {
      const answer = await call('PUT', `/secrets/${name}`, 'loans-publisher', { value: HOSTILE });
      expect(answer.status).toBe(400);
      expect(answer.body.errors?.[0]).toMatchObject({ pointer: '/name' });
      expect((await call('DELETE', `/secrets/${name}`, 'loans-publisher')).status).toBe(400);
    }
    const oversized = await call('PUT', '/secrets/BIG', 'loans-publisher', { value: `${HOSTILE}${'x'.repeat(8192)}` });
    expect(oversized.status).toBe(400);
    expect(oversized.body.errors).toEqual([expect.objectContaining({ pointer: '/value', message: 'must be at most 8192 characters' })]);
    const empty = await call('PUT', '/secrets/EMPTY', 'loans-publisher', { value: '' });
    expect(empty.body.errors).toEqual([expect.objectContaining({ pointer: '/value', message: 'must not be empty' })]);
    const notString = await call('PUT', '/secrets/NUM', 'loans-publisher', { value: 12345 });
    expect(notString.body.errors).toEqual([expect.objectContaining({ pointer: '/value', message: 'must be a string' })]);
    const unknown = await call('PUT', '/secrets/EXTRA', 'loans-publisher', { value: HOSTILE, team: 'airtime' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.errors).toEqual([expect.objectContaining({ pointer: '/team', code: 'unknown-field' })]);
    expect((await call('PUT', '/secrets/TEXT', 'loans-publisher', HOSTILE, { contentType: 'text/plain' })).status).toBe(415);
    const broken = await call('PUT', '/secrets/BROKEN', 'loans-publisher', `{"value": "${HOSTILE}`);
    expect(broken.status).toBe(400);
    const array = await call('PUT', '/secrets/ARRAY', 'loans-publisher', [HOSTILE]);
    expect(array.status).toBe(400);
    expect((await call('GET', '/secrets?value=x', 'loans-viewer')).status).toBe(400);
    expect((await call('GET', '/secrets?team=NOT_A_TEAM', 'loans-viewer')).status).toBe(400);
    expect((await call('GET', '/secrets', 'loans-viewer')).body.items?.map((i) => i['name'])).toEqual(['LOANS_ONLY', 'PAYMENTS_TOKEN']);
  });

  it('answers 503 naming SECRETS_KEYS when no key is configured; listing and deleting still work', async () => {
    const refused = await call('PUT', '/secrets/NEW_ONE', 'loans-publisher', { value: HOSTILE }, { app: keyless });
    expect(refused.status).toBe(503);
    expect(refused.body['detail']).toBe('No secrets key is configured, so secrets cannot be written: set SECRETS_KEYS (docs/security.md, "Secrets").');
    expect((await call('GET', '/secrets', 'loans-viewer', undefined, { app: keyless })).body.items?.map((i) => i['name'])).toEqual(['LOANS_ONLY', 'PAYMENTS_TOKEN']);
    expect((await call('DELETE', '/secrets/LOANS_ONLY', 'loans-publisher', undefined, { app: keyless })).status).toBe(204);
  });

  it('records every set and delete in the audit log (actor from the key, name and key version, never the value); refusals record nothing', async () => {
    const rows = async (): Promise<Record<string, unknown>[]> => {
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        return (await client.query(`SELECT actor, actor_kind, team, action, target_type, target_id, request_id, details FROM audit_log WHERE target_type = 'secret' AND target_id = 'AUDITED' ORDER BY id`)).rows as Record<string, unknown>[];
      } finally {
        await client.end();
      }
    };
    expect((await call('PUT', '/secrets/AUDITED', 'airtime-viewer', { value: GAMMA })).status).toBe(403);
    expect((await call('PUT', '/secrets/AUDITED', 'airtime-publisher', { value: GAMMA }, { app: keyless })).status).toBe(503);
    expect(await rows()).toEqual([]);
    const response = await fetch(`${running.url}/secrets/AUDITED`, { method: 'PUT', headers: { ...keys['airtime-publisher'], 'content-type': 'application/json', 'x-request-id': 'audit-secret-1' }, body: JSON.stringify({ value: GAMMA }) });
    answers.push(await response.text());
    expect(response.status).toBe(201);
    expect((await call('PUT', '/secrets/AUDITED?team=airtime', 'ops-admin', { value: BETA })).status).toBe(200);
    expect((await call('DELETE', '/secrets/AUDITED', 'airtime-publisher')).status).toBe(204);
    expect((await call('DELETE', '/secrets/AUDITED', 'airtime-publisher')).status).toBe(404);
    const recorded = await rows();
    expect(recorded).toEqual([
      { actor: 'airtime/airtime-publisher', actor_kind: 'api-key', team: 'airtime', action: 'secret.set', target_type: 'secret', target_id: 'AUDITED', request_id: 'audit-secret-1', details: { keyVersion: 1 } },
      { actor: 'ops/ops-admin', actor_kind: 'api-key', team: 'airtime', action: 'secret.set', target_type: 'secret', target_id: 'AUDITED', request_id: expect.any(String), details: { keyVersion: 1 } },
      { actor: 'airtime/airtime-publisher', actor_kind: 'api-key', team: 'airtime', action: 'secret.delete', target_type: 'secret', target_id: 'AUDITED', request_id: expect.any(String), details: {} },
    ]);
    expect(JSON.stringify(recorded)).not.toContain(GAMMA);
    expect(JSON.stringify(recorded)).not.toContain(BETA);
  });
});
