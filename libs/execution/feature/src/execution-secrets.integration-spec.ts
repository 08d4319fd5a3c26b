import { Module } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import { AuthModule } from '@ussd/platform-auth';
import { migrateDatabase } from '@ussd/platform-database';
import { bootstrap, PlatformModule, type RunningApp } from '@ussd/platform-http';
import { SecretsModule } from '@ussd/platform-secrets';
import { createTestDatabase, createTestKey, silentLogger, type TestDatabase } from '@ussd/platform-testing';
import { WorkflowFeatureModule } from '@ussd/workflow-feature';
import { ExecutionFeatureModule } from './execution-feature.module.js';

@Module({})
class TestRoot {}

const TOKEN = 'tok_live_e2e_6d0f3a91c4';
const ROTATED = 'tok_live_e2e_rotated_77b1';

/**
 * End to end through the API: a team sets a secret, a workflow sends it in an http.request
 * header to a local listener that echoes it back (in a 200 and in a 500), and the value appears
 * in no answer, no execution log row and no log line, only in what the listener received.
 */
describe('secrets in executions, through the API', () => {
  let database: TestDatabase;
  let running: RunningApp;
  let listener: Server;
  let target = '';
  const received: IncomingHttpHeaders[] = [];
  const logs: string[] = [];
  const answers: string[] = [];
  let loans: { authorization: string };
  let airtime: { authorization: string };

  beforeAll(async () => {
    listener = createServer((req, res) => {
      received.push(req.headers);
      const auth = String(req.headers['authorization']);
      if (req.url?.startsWith('/fail')) res.writeHead(500, { 'content-type': 'text/plain' }).end(`rejected credentials ${auth}`);
      else res.writeHead(200, { 'content-type': 'application/json', 'x-seen': auth }).end(JSON.stringify({ seen: auth }));
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const address = listener.address();
    target = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;

    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    const destination = new PassThrough();
    destination.on('data', (chunk: Buffer) => logs.push(chunk.toString('utf8')));
    running = await bootstrap({
      defaults: { appName: 'test', port: 0 },
      env: {
        HOST: '127.0.0.1',
        PORT: '0',
        LOG_LEVEL: 'trace',
        LOG_FORMAT: 'json',
        DATABASE_URL: database.url,
        EXECUTION_EVENT_FLUSH_MS: '10',
        HTTP_ALLOWED_HOSTS: '127.0.0.1',
        SECRETS_KEYS: `1:${randomBytes(32).toString('base64')}`,
      },
      rootModule: (context) => ({
        module: TestRoot,
        imports: [PlatformModule.forRoot(context), AuthModule.forRoot({ developmentKey: false }), SecretsModule.forRoot(), WorkflowFeatureModule, ExecutionFeatureModule],
      }),
      handleSignals: false,
      logDestination: destination,
      exit: () => undefined,
    });
    loans = (await createTestKey(database.url, 'publisher', 'loans', 'loans-ci')).headers;
    airtime = (await createTestKey(database.url, 'publisher', 'airtime', 'airtime-ci')).headers;
  });

  afterAll(async () => {
    await running?.app.close();
    // No value in an execution log row, an answer or a log line (the capture did work).
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    const rows = await client.query(`SELECT (SELECT COALESCE(json_agg(e)::text, '') FROM execution_logs e) || (SELECT COALESCE(json_agg(n)::text, '') FROM node_execution_logs n) AS all`);
    await client.end();
    await database?.drop();
    listener?.closeAllConnections();
    await new Promise((resolve) => listener?.close(resolve));
    const stored = String(rows.rows[0]?.all);
    expect(stored).toContain('[secret:PAYMENTS_TOKEN]');
    expect(logs.join('')).toContain('/executions');
    for (const value of [TOKEN, ROTATED]) {
      expect(stored).not.toContain(value);
      expect(answers.join('\n')).not.toContain(value);
      expect(logs.join('\n')).not.toContain(value);
    }
  });

  async function call(method: string, path: string, as: { authorization: string }, body?: unknown) {
    const response = await fetch(`${running.url}${path}`, {
      method,
      headers: { ...as, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    answers.push(text);
    return { status: response.status, body: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }

  async function logged(executionId: string) {
    const deadline = Date.now() + 5000;
    for (;;) {
      const response = await call('GET', `/executions/${executionId}`, loans);
      if (response.status === 200 && ['completed', 'failed'].includes(String(response.body['status'])) && (response.body['nodes'] as unknown[]).length > 0) return response.body;
      if (Date.now() > deadline) throw new Error(`execution ${executionId} not logged: ${JSON.stringify(response.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  const spec = (path: string) => ({
    specVersion: 1,
    settings: { executionTimeoutMs: 10_000, maxSteps: 10 },
    triggers: [{ type: 'http', entry: 'call' }],
    nodes: [
      { id: 'call', type: 'http.request', method: 'GET', url: `${target}${path}`, headers: { Authorization: 'Bearer {{ secrets.PAYMENTS_TOKEN }}' }, next: 'done' },
      { id: 'done', type: 'end', output: "{ 'body': nodes.call.body, 'header': nodes.call.headers.`x-seen` }" },
    ],
  });

  async function published(path: string, as = loans): Promise<string> {
    const created = await call('POST', '/workflows', as, { name: 'pay', spec: spec(path) });
    expect(created.status).toBe(201);
    const workflowId = created.body['workflowId'] as string;
    expect((await call('POST', `/workflows/${workflowId}/versions/1/publish`, as)).status).toBe(200);
    return workflowId;
  }

  it('reports a secret the team lacks at validate, create and publish, with a pointer and secrets.unknown', async () => {
    const unknown = { pointer: '/nodes/0/headers/Authorization', code: 'secrets.unknown', message: 'team loans has no secret PAYMENTS_TOKEN: set it with PUT /secrets/PAYMENTS_TOKEN, or correct the name' };
    expect((await call('POST', '/workflows/validate', loans, spec('/ok'))).body).toEqual({ valid: false, errors: [unknown] });
    const created = await call('POST', '/workflows', loans, { name: 'early', spec: spec('/ok') });
    expect(created.body['validation']).toEqual({ valid: false, errors: [unknown] });
    const refused = await call('POST', `/workflows/${String(created.body['workflowId'])}/versions/1/publish`, loans);
    expect(refused.status).toBe(400);
    expect(refused.body['errors']).toEqual([unknown]);

    expect((await call('PUT', '/secrets/PAYMENTS_TOKEN', loans, { value: TOKEN })).status).toBe(201);
    expect((await call('POST', '/workflows/validate', loans, spec('/ok'))).body).toEqual({ valid: true, errors: [] });
    expect((await call('POST', `/workflows/${String(created.body['workflowId'])}/versions/1/publish`, loans)).status).toBe(200);
    // Another team's secret of that name is not this team's.
    expect((await call('POST', '/workflows/validate', airtime, spec('/ok'))).body['errors']).toEqual([{ ...unknown, message: unknown.message.replace('team loans', 'team airtime') }]);
  });

  it('sends the value to the target and masks its echo in the sync answer and the logged execution', async () => {
    const workflowId = await published('/ok');
    const run = await call('POST', `/workflows/${workflowId}/executions`, loans, { mode: 'sync' });
    expect(run.status).toBe(200);
    expect(received.at(-1)?.['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(run.body).toMatchObject({ status: 'completed', output: { body: { seen: 'Bearer [secret:PAYMENTS_TOKEN]' }, header: 'Bearer [secret:PAYMENTS_TOKEN]' } });
    const log = await logged(run.body['executionId'] as string);
    expect(log['nodes']).toMatchObject([{ nodeId: 'call', status: 'completed', output: { body: { seen: 'Bearer [secret:PAYMENTS_TOKEN]' } } }, { nodeId: 'done' }]);
  });

  it("masks the value in the HTTP node's error when the target answers it in a 500", async () => {
    const workflowId = await published('/fail');
    const run = await call('POST', `/workflows/${workflowId}/executions`, loans, { mode: 'sync' });
    expect(run.body).toMatchObject({ status: 'failed', error: { code: 'http.status.500', nodeId: 'call' } });
    expect(JSON.stringify(run.body)).toContain('rejected credentials Bearer [secret:PAYMENTS_TOKEN]');
    const log = await logged(run.body['executionId'] as string);
    expect(JSON.stringify(log['nodes'])).toContain('[secret:PAYMENTS_TOKEN]');
  });

  it('uses the replaced value from the next run, and fails with secrets.unknown once the secret is deleted', async () => {
    const workflowId = await published('/ok');
    expect((await call('PUT', '/secrets/PAYMENTS_TOKEN', loans, { value: ROTATED })).status).toBe(200);
    const replaced = await call('POST', `/workflows/${workflowId}/executions`, loans, { mode: 'sync' });
    expect(received.at(-1)?.['authorization']).toBe(`Bearer ${ROTATED}`);
    expect(replaced.body).toMatchObject({ status: 'completed', output: { header: 'Bearer [secret:PAYMENTS_TOKEN]' } });

    expect((await call('DELETE', '/secrets/PAYMENTS_TOKEN', loans)).status).toBe(204);
    const before = received.length;
    const run = await call('POST', `/workflows/${workflowId}/executions`, loans, { mode: 'sync' });
    expect(run.body).toMatchObject({ status: 'failed', error: { code: 'secrets.unknown', message: 'team loans has no secret PAYMENTS_TOKEN: set it with PUT /secrets/{name}' } });
    expect(received.length).toBe(before);
  });
});
