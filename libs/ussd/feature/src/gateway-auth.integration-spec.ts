import { createHmac, randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import pg from 'pg';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@ussd/platform-http';
import { requireRedis } from '@ussd/platform-testing';
import { balanceSpec, post, startUssdApp, uniqueServiceCode, type GatewayReply, type UssdTestApp } from './ussd-app.test-helpers.js';

const TOKEN_1 = `at-${'1'.repeat(29)}`;
const TOKEN_2 = `at-${'2'.repeat(29)}`;
const HMAC_SECRET = `hub-${'s'.repeat(36)}`;
const PHONE = '+254712345678';

/** JSON log lines written by an app. */
class LogLines {
  readonly stream = new PassThrough();
  readonly raw: string[] = [];
  constructor() {
    let partial = '';
    this.stream.on('data', (chunk: Buffer) => {
      const parts = (partial + chunk.toString('utf8')).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) if (line.trim()) this.raw.push(line);
    });
  }
  parsed(): Record<string, unknown>[] {
    return this.raw.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

async function refusals(app: UssdTestApp, gateway: string, reason: string): Promise<number> {
  const metric = await app.running.app.get<symbol, Registry>(METRICS_REGISTRY).getSingleMetric('ussd_gateway_refused_total')?.get();
  return metric?.values.find((value) => value.labels['gateway'] === gateway && value.labels['reason'] === reason)?.value ?? 0;
}

async function executionRows(app: UssdTestApp): Promise<number> {
  const client = new pg.Client({ connectionString: app.database.url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM execution_logs');
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

function atForm(code: string, sessionId = `ATUid_${randomUUID()}`): { sessionId: string; body: string } {
  return { sessionId, body: new URLSearchParams({ sessionId, serviceCode: code, phoneNumber: PHONE, networkCode: '63902', text: '' }).toString() };
}

function hubtelBody(code: string, sessionId = randomUUID().replaceAll('-', '')): { sessionId: string; body: string } {
  return { sessionId, body: JSON.stringify({ Type: 'Initiation', Mobile: '254712345678', SessionId: sessionId, ServiceCode: code, Message: code, Operator: 'mtn', Sequence: 1, Platform: 'USSD' }) };
}

function signed(body: string, secret = HMAC_SECRET, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return { 'x-gateway-timestamp': String(timestamp), 'x-gateway-signature': `sha256=${signature}` };
}

const atPost = (app: UssdTestApp, body: string, headers: Record<string, string> = {}, path = '/ussd/africastalking') => post(app.url, path, 'application/x-www-form-urlencoded', body, headers);
const hubtelPost = (app: UssdTestApp, body: string, headers: Record<string, string> = {}) => post(app.url, '/ussd/hubtel', 'application/json', body, headers);

describe('gateway authentication: tokens and signatures (Redis)', () => {
  let app: UssdTestApp;
  let code: string;
  const logs = new LogLines();

  beforeAll(async () => {
    app = await startUssdApp(
      {
        REDIS_URL: await requireRedis(),
        REDIS_KEY_PREFIX: `test-${randomUUID()}`,
        LOG_LEVEL: 'info',
        LOG_FORMAT: 'json',
        USSD_GATEWAY_AFRICASTALKING_TOKEN: `${TOKEN_1},${TOKEN_2}`,
        USSD_GATEWAY_HUBTEL_HMAC_SECRET: HMAC_SECRET,
      },
      { logDestination: logs.stream },
    );
    code = uniqueServiceCode();
    await app.publish(balanceSpec(code, 'http://127.0.0.1:9'));
  });
  afterAll(async () => {
    await app?.close();
  });

  /** The refused hop left no trace: no session, no execution. */
  async function expectNoTrace(sessionId: string, executionsBefore: number): Promise<void> {
    expect((await app.call('GET', `/sessions/${encodeURIComponent(sessionId)}`)).status).toBe(404);
    expect(await executionRows(app)).toBe(executionsBefore);
  }

  function expectAtRefusal(reply: GatewayReply, status: number): void {
    expect([reply.status, reply.contentType, reply.body]).toEqual([status, 'text/plain; charset=utf-8', 'END Sorry, this request was refused.']);
  }

  it("refuses an Africa's Talking hop without a token (401, an END), counts it, and creates no session or execution", async () => {
    const before = await refusals(app, 'africastalking', 'missing_credential');
    const executions = await executionRows(app);
    const hop = atForm(code);
    expectAtRefusal(await atPost(app, hop.body), 401);
    expect(await refusals(app, 'africastalking', 'missing_credential')).toBe(before + 1);
    await expectNoTrace(hop.sessionId, executions);
  });

  it('refuses a wrong token in the header or the path, and one that is almost right', async () => {
    const before = await refusals(app, 'africastalking', 'wrong_token');
    const executions = await executionRows(app);
    const hops = [atForm(code), atForm(code), atForm(code), atForm(code)];
    expectAtRefusal(await atPost(app, hops[0]!.body, { 'x-gateway-token': 'nope' }), 401);
    expectAtRefusal(await atPost(app, hops[1]!.body, { 'x-gateway-token': `${TOKEN_1}x` }), 401);
    expectAtRefusal(await atPost(app, hops[2]!.body, {}, `/ussd/africastalking/${TOKEN_1.slice(0, -1)}`), 401);
    // Both forms at once: both must be right.
    expectAtRefusal(await atPost(app, hops[3]!.body, { 'x-gateway-token': TOKEN_1 }, `/ussd/africastalking/${TOKEN_2}x`), 401);
    expect(await refusals(app, 'africastalking', 'wrong_token')).toBe(before + 4);
    for (const hop of hops) await expectNoTrace(hop.sessionId, executions);
  });

  it('answers with either of two tokens (rotation), in the header or as the path token', async () => {
    for (const [headers, path] of [
      [{ 'x-gateway-token': TOKEN_1 }, '/ussd/africastalking'],
      [{ 'x-gateway-token': TOKEN_2 }, '/ussd/africastalking'],
      [{}, `/ussd/africastalking/${TOKEN_1}`],
      [{}, `/ussd/africastalking/${TOKEN_2}`],
    ] as const) {
      const hop = atForm(code);
      const reply = await atPost(app, hop.body, headers, path);
      expect([reply.status, reply.body]).toEqual([200, 'CON Welcome\n1. Check balance\n2. Exit']);
      expect((await app.call('GET', `/sessions/${hop.sessionId}`)).status).toBe(200);
    }
  });

  it('never writes a token, a path token or the phone number to a log line; the request line shows the path token redacted', async () => {
    await atPost(app, atForm(code).body, {}, `/ussd/africastalking/${TOKEN_2}`);
    await atPost(app, atForm(code).body, {}, '/ussd/africastalking/a-guessed-path-token-1234');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const text = logs.raw.join('\n');
    for (const secret of [TOKEN_1, TOKEN_2, HMAC_SECRET, 'a-guessed-path-token-1234', PHONE, '254712345678']) expect([secret, text.includes(secret)]).toEqual([secret, false]);
    const urls = logs.parsed().filter((line) => line['msg'] === 'request completed').map((line) => line['url']);
    expect(urls).toContain('/ussd/africastalking/[redacted]');
    const refused = logs.parsed().filter((line) => line['msg'] === 'USSD gateway callback refused');
    expect(refused[0]).toMatchObject({ gateway: 'africastalking', reason: expect.any(String), ip: '127.0.0.1' });
  });

  it('refuses a path token on a gateway that has no tokens configured', async () => {
    const before = await refusals(app, 'hubtel', 'wrong_token');
    const hop = hubtelBody(code);
    const reply = await post(app.url, `/ussd/hubtel/${TOKEN_1}`, 'application/json', hop.body, signed(hop.body));
    expect(reply.status).toBe(401);
    expect(await refusals(app, 'hubtel', 'wrong_token')).toBe(before + 1);
  });

  it('refuses an unsigned, badly signed, re-used or stale Hubtel callback in Hubtel JSON, and answers a good signature once', async () => {
    const executions = await executionRows(app);
    const expectHubtelRefusal = (reply: GatewayReply) => {
      expect(reply.status).toBe(401);
      expect(reply.contentType).toMatch(/^application\/json/);
      expect(JSON.parse(reply.body)).toMatchObject({ Type: 'release', Message: 'Sorry, this request was refused.', DataType: 'display' });
    };
    const hop = hubtelBody(code);
    const other = hubtelBody(code);
    const before = {
      missing: await refusals(app, 'hubtel', 'missing_credential'),
      bad: await refusals(app, 'hubtel', 'bad_signature'),
      stale: await refusals(app, 'hubtel', 'stale_signature'),
      replayed: await refusals(app, 'hubtel', 'replayed'),
    };
    expectHubtelRefusal(await hubtelPost(app, hop.body));
    // Signed with another key; the signature of one body sent with another; a malformed header.
    expectHubtelRefusal(await hubtelPost(app, hop.body, signed(hop.body, `x${HMAC_SECRET}`)));
    expectHubtelRefusal(await hubtelPost(app, hop.body, signed(other.body)));
    expectHubtelRefusal(await hubtelPost(app, hop.body, { ...signed(hop.body), 'x-gateway-signature': 'sha256=zz' }));
    // Ten minutes old, and ten minutes ahead.
    expectHubtelRefusal(await hubtelPost(app, hop.body, signed(hop.body, HMAC_SECRET, Math.floor(Date.now() / 1000) - 600)));
    expectHubtelRefusal(await hubtelPost(app, hop.body, signed(hop.body, HMAC_SECRET, Math.floor(Date.now() / 1000) + 600)));
    await expectNoTrace(hop.sessionId, executions);

    const headers = signed(hop.body);
    const good = await hubtelPost(app, hop.body, headers);
    expect([good.status, (JSON.parse(good.body) as { Type: string }).Type]).toEqual([200, 'response']);
    expectHubtelRefusal(await hubtelPost(app, hop.body, headers));
    expect({
      missing: await refusals(app, 'hubtel', 'missing_credential'),
      bad: await refusals(app, 'hubtel', 'bad_signature'),
      stale: await refusals(app, 'hubtel', 'stale_signature'),
      replayed: await refusals(app, 'hubtel', 'replayed'),
    }).toEqual({ missing: before.missing + 1, bad: before.bad + 3, stale: before.stale + 2, replayed: before.replayed + 1 });
  });
});

describe('gateway authentication: source addresses and trusted proxies', () => {
  const apps: UssdTestApp[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  async function start(env: Record<string, string>): Promise<UssdTestApp> {
    const app = await startUssdApp(env);
    apps.push(app);
    return app;
  }

  it('believes X-Forwarded-For from a trusted proxy: an address inside the allowlist is answered, one outside refused (403)', async () => {
    // The test client connects from 127.0.0.1: here that is the trusted proxy.
    const app = await start({ TRUSTED_PROXIES: '127.0.0.1', USSD_GATEWAY_AFRICASTALKING_ALLOWED_CIDRS: '196.201.214.0/24' });
    const code = uniqueServiceCode();
    await app.publish(balanceSpec(code, 'http://127.0.0.1:9'));
    const inside = await atPost(app, atForm(code).body, { 'x-forwarded-for': '196.201.214.7' });
    expect([inside.status, inside.body]).toEqual([200, 'CON Welcome\n1. Check balance\n2. Exit']);
    const before = await refusals(app, 'africastalking', 'source_not_allowed');
    const outsideHop = atForm(code);
    const outside = await atPost(app, outsideHop.body, { 'x-forwarded-for': '203.0.113.9' });
    expect([outside.status, outside.body]).toEqual([403, 'END Sorry, this request was refused.']);
    // The client's own claim in front of the proxy's entry is not what counts: the proxy's last entry is.
    const spoofed = await atPost(app, atForm(code).body, { 'x-forwarded-for': '196.201.214.7, 203.0.113.9' });
    expect(spoofed.status).toBe(403);
    // No X-Forwarded-For: the proxy itself (127.0.0.1) is the client, outside the allowlist.
    expect((await atPost(app, atForm(code).body)).status).toBe(403);
    expect(await refusals(app, 'africastalking', 'source_not_allowed')).toBe(before + 3);
    expect((await app.call('GET', `/sessions/${outsideHop.sessionId}`)).status).toBe(404);
  });

  it('ignores X-Forwarded-For from a client that is not a trusted proxy', async () => {
    const app = await start({ USSD_GATEWAY_AFRICASTALKING_ALLOWED_CIDRS: '196.201.214.0/24' });
    const reply = await atPost(app, atForm(uniqueServiceCode()).body, { 'x-forwarded-for': '196.201.214.7' });
    expect([reply.status, reply.body]).toEqual([403, 'END Sorry, this request was refused.']);
  });

  it('answers the connecting address when it is inside the allowlist, and needs the token as well when both are set', async () => {
    const app = await start({ USSD_GATEWAY_HUBTEL_ALLOWED_CIDRS: '10.0.0.0/8,127.0.0.0/8', USSD_GATEWAY_HUBTEL_TOKEN: TOKEN_1 });
    const code = uniqueServiceCode();
    await app.publish(balanceSpec(code, 'http://127.0.0.1:9'));
    const hop = hubtelBody(code);
    expect((await hubtelPost(app, hop.body)).status).toBe(401);
    const good = await hubtelPost(app, hop.body, { 'x-gateway-token': TOKEN_1 });
    expect([good.status, (JSON.parse(good.body) as { Type: string }).Type]).toEqual([200, 'response']);
  });
});

describe('gateway authentication: secure by default', () => {
  const apps: UssdTestApp[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('with NODE_ENV=production refuses every callback of a gateway without credentials (403, in its format) and says so at start', async () => {
    const logs = new LogLines();
    const app = await startUssdApp({ NODE_ENV: 'production', LOG_LEVEL: 'info', USSD_GATEWAY_HUBTEL_TOKEN: TOKEN_1 }, { logDestination: logs.stream });
    apps.push(app);
    const code = uniqueServiceCode();
    await app.publish(balanceSpec(code, 'http://127.0.0.1:9'));
    const hop = atForm(code);
    const reply = await atPost(app, hop.body);
    expect([reply.status, reply.body]).toEqual([403, 'END Sorry, this request was refused.']);
    expect(await refusals(app, 'africastalking', 'not_configured')).toBe(1);
    expect((await app.call('GET', `/sessions/${hop.sessionId}`)).status).toBe(404);
    const warnings = logs.parsed().filter((line) => line['level'] === 40).map((line) => line['msg']);
    expect(warnings).toContainEqual(expect.stringMatching(/^USSD gateways refusing every callback \(no credential configured, NODE_ENV=production\): africastalking; set USSD_GATEWAY_<NAME>_TOKEN/));
    expect(warnings.join('\n')).not.toMatch(/hubtel/);
  });

  it('is open when AUTH=none says so, with a warning line naming the gateway; and open outside production (the development default)', async () => {
    const logs = new LogLines();
    const app = await startUssdApp({ NODE_ENV: 'production', LOG_LEVEL: 'info', USSD_GATEWAY_AFRICASTALKING_AUTH: 'none', USSD_GATEWAY_HUBTEL_AUTH: 'required' }, { logDestination: logs.stream });
    apps.push(app);
    const code = uniqueServiceCode();
    await app.publish(balanceSpec(code, 'http://127.0.0.1:9'));
    expect((await atPost(app, atForm(code).body)).status).toBe(200);
    expect((await hubtelPost(app, hubtelBody(code).body)).status).toBe(403);
    const warnings = logs.parsed().filter((line) => line['level'] === 40).map((line) => line['msg']);
    expect(warnings).toContainEqual(expect.stringMatching(/^USSD gateways open to anyone \(no credential configured\): africastalking;/));
    expect(warnings).toContainEqual(expect.stringMatching(/^USSD gateways refusing every callback .*: hubtel;/));

    const development = await startUssdApp({ NODE_ENV: 'development' });
    apps.push(development);
    await development.publish(balanceSpec(code, 'http://127.0.0.1:9'));
    expect((await atPost(development, atForm(code).body)).status).toBe(200);
  });
});
