import { createHttpClient, type ClosableHttpClient } from './http-client.js';
import { startServer, type TestServer } from './http.test-helpers.js';
import { MemorySink, nextExecutionId, node, pinned, SESSION, specOf, WORKFLOW_ID } from './engine.test-helpers.js';
import { WorkflowEngine } from './engine.js';
import { SecretResolutionError, type SecretSource } from './engine.types.js';
import type { Continuation } from './continuation.js';

const TOKEN = 'tok_live_4c1d9e7f2a';
const OTHER = 'sms_key_88f1b2c3';

/** A source that records what it was asked and can be told to fail. */
class FakeSecrets implements SecretSource {
  readonly asked: { workflowId: string; names: readonly string[] }[] = [];
  values = new Map([
    ['PAYMENTS_TOKEN', TOKEN],
    ['SMS_KEY', OTHER],
    ['UNUSED', 'never-asked-for'],
  ]);
  failWith: Error | undefined;

  async resolve(workflowId: string, names: readonly string[]): Promise<ReadonlyMap<string, string>> {
    this.asked.push({ workflowId, names });
    if (this.failWith !== undefined) throw this.failWith;
    return new Map(names.flatMap((name) => (this.values.has(name) ? [[name, this.values.get(name) as string] as const] : [])));
  }
}

describe('secrets in runs: resolved at run time, masked on every way out', () => {
  let server: TestServer;
  let http: ClosableHttpClient;

  beforeAll(async () => {
    server = await startServer({
      // A hostile or careless target: it echoes the credentials back, in a 200 and in a 500.
      '/echo': (req, res) => res.writeHead(200, { 'content-type': 'application/json', 'x-echo': String(req.headers['authorization']) }).end(JSON.stringify({ auth: req.headers['authorization'], url: req.url })),
      '/fail': (req, res) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`bad credentials: ${String(req.headers['authorization'])}`),
    });
    http = createHttpClient({ connectTimeoutMs: 1_000, maxResponseBytes: 10_000, allowedHosts: ['127.0.0.1'] });
  });
  afterAll(async () => {
    http.close();
    await server.close();
  });

  function engineWith(secrets: SecretSource | undefined) {
    const sink = new MemorySink();
    return { sink, engine: new WorkflowEngine({ sink, http, ...(secrets === undefined ? {} : { secrets }) }) };
  }

  const leaks = (value: unknown) => [TOKEN, OTHER].filter((secret) => JSON.stringify(value).includes(secret));

  it('sends the real value in the header and masks what the target echoes, in events and the result', async () => {
    const secrets = new FakeSecrets();
    const { sink, engine } = engineWith(secrets);
    const workflow = pinned(
      specOf([
        node({ id: 'call', type: 'http.request', method: 'GET', url: `${server.url}/echo?k={{ secrets.SMS_KEY }}`, headers: { Authorization: 'Bearer {{ secrets.PAYMENTS_TOKEN }}' }, next: 'out' }),
        node({ id: 'out', type: 'end', output: "{ 'echo': nodes.call.body, 'direct': secrets.PAYMENTS_TOKEN, 'joined': 'x' & secrets.SMS_KEY }" }),
      ]),
    );
    const result = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'http', payload: {} } });
    expect(server.requests.at(-1)?.headers['authorization']).toBe(`Bearer ${TOKEN}`);
    expect(server.requests.at(-1)?.url).toBe(`/echo?k=${OTHER}`);
    expect(result).toMatchObject({
      status: 'completed',
      output: { echo: { auth: 'Bearer [secret:PAYMENTS_TOKEN]', url: '/echo?k=[secret:SMS_KEY]' }, direct: '[secret:PAYMENTS_TOKEN]', joined: 'x[secret:SMS_KEY]' },
    });
    expect(sink.nodeEvents('call')[0]?.output).toMatchObject({ headers: { 'x-echo': 'Bearer [secret:PAYMENTS_TOKEN]' } });
    expect(leaks(sink.events)).toEqual([]);
    expect(leaks(result)).toEqual([]);
    // Only what the spec names is asked for, for the workflow that runs.
    expect(secrets.asked).toEqual([{ workflowId: WORKFLOW_ID, names: ['PAYMENTS_TOKEN', 'SMS_KEY'] }]);
  });

  it("masks the value in a node's error when the target answers with it", async () => {
    const { sink, engine } = engineWith(new FakeSecrets());
    const workflow = pinned(specOf([node({ id: 'call', type: 'http.request', method: 'GET', url: `${server.url}/fail`, headers: { Authorization: '{{ secrets.PAYMENTS_TOKEN }}' }, next: 'out' }), node({ id: 'out', type: 'end' })]));
    const result = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'http', payload: {} } });
    expect(result).toMatchObject({ status: 'failed', error: { code: 'http.status.500' } });
    expect(JSON.stringify(result)).toContain('bad credentials: [secret:PAYMENTS_TOKEN]');
    expect(JSON.stringify(sink.nodeEvents('call')[0]?.error)).toContain('[secret:PAYMENTS_TOKEN]');
    expect(leaks(sink.events)).toEqual([]);
    expect(leaks(result)).toEqual([]);
  });

  it('masks a fail node that names the value', async () => {
    const { sink, engine } = engineWith(new FakeSecrets());
    const workflow = pinned(specOf([node({ id: 'boom', type: 'fail', error: 'custom.bad', message: 'token was {{ secrets.PAYMENTS_TOKEN }}' })]));
    const result = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'http', payload: {} } });
    expect(result).toMatchObject({ status: 'failed', error: { message: 'token was [secret:PAYMENTS_TOKEN]' } });
    expect(leaks(sink.events)).toEqual([]);
  });

  it('masks a USSD prompt and the continuation, and reads the values again on resume', async () => {
    const secrets = new FakeSecrets();
    const { sink, engine } = engineWith(secrets);
    const workflow = pinned(
      specOf([
        node({ id: 'keep', type: 'transform', assign: { token: 'secrets.PAYMENTS_TOKEN' }, next: 'menu' }),
        node({ id: 'menu', type: 'ussd.menu', text: 'Code {{ secrets.PAYMENTS_TOKEN }}', options: [{ key: '1', label: 'OK', next: 'out' }] }),
        node({ id: 'out', type: 'end', output: "{ 'fresh': secrets.PAYMENTS_TOKEN, 'kept': vars.token }" }),
      ]),
    );
    const paused = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION });
    expect(paused).toMatchObject({ status: 'paused', prompt: { text: expect.stringContaining('Code [secret:PAYMENTS_TOKEN]') } });
    expect(leaks(paused)).toEqual([]);
    const continuation = (paused as { continuation: Continuation }).continuation;
    const resumed = await engine.resume(workflow, continuation, { kind: 'input', text: '1' });
    // A value kept in vars across the pause is the mask from then on; secrets.X is the value again.
    expect(resumed).toMatchObject({ status: 'completed', output: { fresh: '[secret:PAYMENTS_TOKEN]', kept: '[secret:PAYMENTS_TOKEN]' } });
    expect(secrets.asked).toHaveLength(2);
    expect(leaks(sink.events)).toEqual([]);
  });

  it('fails a resume whose secrets cannot be read, ending the waiting node', async () => {
    const secrets = new FakeSecrets();
    const { sink, engine } = engineWith(secrets);
    const workflow = pinned(specOf([node({ id: 'menu', type: 'ussd.menu', text: 'Hi {{ secrets.PAYMENTS_TOKEN }}', options: [{ key: '1', label: 'OK', next: 'out' }] }), node({ id: 'out', type: 'end' })]));
    const executionId = nextExecutionId();
    const paused = await engine.start({ executionId, workflow, trigger: { type: 'ussd', payload: {} }, session: SESSION });
    secrets.failWith = new SecretResolutionError('secrets.unknown', 'team loans has no secret PAYMENTS_TOKEN');
    const resumed = await engine.resume(workflow, (paused as { continuation: Continuation }).continuation, { kind: 'input', text: '1' });
    expect(resumed).toMatchObject({ status: 'failed', error: { code: 'secrets.unknown', nodeId: 'menu' } });
    expect(sink.trail(executionId)).toEqual(['execution.started', 'execution.paused', 'execution.resumed', 'node:menu:failed:0', 'execution.finished']);
  });

  it.each([
    ['a name the team does not have', (s: FakeSecrets) => s.values.delete('PAYMENTS_TOKEN'), 'secrets.unknown', "the workflow's team has no secret PAYMENTS_TOKEN: set it with PUT /secrets/PAYMENTS_TOKEN"],
    ['an unreadable store', (s: FakeSecrets) => (s.failWith = new Error('connection refused')), 'secrets.unavailable', "the workflow's secrets could not be read: connection refused"],
    ['no key configured', (s: FakeSecrets) => (s.failWith = new SecretResolutionError('secrets.unavailable', 'no secrets key is configured: set SECRETS_KEYS')), 'secrets.unavailable', 'no secrets key is configured: set SECRETS_KEYS'],
  ])('fails before any node runs with %s', async (_what, breakIt, code, message) => {
    const secrets = new FakeSecrets();
    breakIt(secrets);
    const { sink, engine } = engineWith(secrets);
    const executionId = nextExecutionId();
    const workflow = pinned(specOf([node({ id: 'call', type: 'http.request', method: 'GET', url: `${server.url}/echo`, headers: { Authorization: '{{ secrets.PAYMENTS_TOKEN }}' }, next: 'out' }), node({ id: 'out', type: 'end' })]));
    const before = server.requests.length;
    const result = await engine.start({ executionId, workflow, trigger: { type: 'http', payload: {} } });
    expect(result).toMatchObject({ status: 'failed', error: { code, message } });
    expect(sink.trail(executionId)).toEqual(['execution.started', 'execution.finished']);
    expect(server.requests.length).toBe(before);
  });

  it('fails with secrets.unavailable when the engine has no source, and asks nothing for specs without secrets', async () => {
    const none = engineWith(undefined);
    const uses = pinned(specOf([node({ id: 'out', type: 'end', output: 'secrets.PAYMENTS_TOKEN' })]));
    expect(await none.engine.start({ executionId: nextExecutionId(), workflow: uses, trigger: { type: 'http', payload: {} } })).toMatchObject({ status: 'failed', error: { code: 'secrets.unavailable' } });
    const secrets = new FakeSecrets();
    const plain = engineWith(secrets);
    const result = await plain.engine.start({ executionId: nextExecutionId(), workflow: pinned(specOf([node({ id: 'out', type: 'end', output: "'no secrets here'" })])), trigger: { type: 'http', payload: {} } });
    expect(result).toMatchObject({ status: 'completed', output: 'no secrets here' });
    expect(secrets.asked).toEqual([]);
  });

  it('gives expressions only the names the spec writes: others are not there', async () => {
    const { engine } = engineWith(new FakeSecrets());
    const workflow = pinned(specOf([node({ id: 'x', type: 'transform', assign: { t: 'secrets.SMS_KEY' }, next: 'out' }), node({ id: 'out', type: 'end', output: "{ 'keys': $keys(secrets), 'dynamic': $lookup(secrets, 'UNUSED') }" })]));
    const result = await engine.start({ executionId: nextExecutionId(), workflow, trigger: { type: 'http', payload: {} } });
    expect(result).toMatchObject({ status: 'completed', output: { keys: 'SMS_KEY' } });
    expect(JSON.stringify(result)).not.toContain('never-asked-for');
  });
});
