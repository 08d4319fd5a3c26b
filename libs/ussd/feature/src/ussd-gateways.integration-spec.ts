import { randomUUID } from 'node:crypto';
import { requireRedis } from '@ussd/platform-testing';
import { AfricasTalkingPhone, balanceSpec, post, startUssdApp, TestService, uniqueServiceCode, type UssdTestApp } from './ussd-app.test-helpers.js';

/** A Hubtel subscriber: JSON hops numbered by Sequence. */
class HubtelPhone {
  readonly sessionId = randomUUID().replaceAll('-', '');
  private sequence = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly serviceCode: string,
    private readonly mobile = '233241234567',
  ) {}

  request(type: string, message: string, sequence = this.sequence) {
    return { Type: type, Mobile: this.mobile, SessionId: this.sessionId, ServiceCode: this.serviceCode, Message: message, Operator: 'mtn', Sequence: sequence, ClientState: '', Platform: 'USSD' };
  }

  async dial() {
    this.sequence = 1;
    return this.post(this.request('Initiation', this.serviceCode));
  }

  async send(message: string) {
    this.sequence += 1;
    return this.post(this.request('Response', message));
  }

  async post(body: unknown) {
    const reply = await post(this.baseUrl, '/ussd/hubtel', 'application/json', JSON.stringify(body));
    return { status: reply.status, contentType: reply.contentType, raw: reply.body, json: JSON.parse(reply.body) as { Type: string; Message: string; SessionId: string } };
  }
}

describe('USSD gateways, pagination and expiry (Redis sessions)', () => {
  let app: UssdTestApp;
  let service: TestService;
  let code: string;

  beforeAll(async () => {
    service = new TestService();
    await service.start();
    app = await startUssdApp({
      REDIS_URL: await requireRedis(),
      REDIS_KEY_PREFIX: `test-${randomUUID()}`,
      USSD_ENVIRONMENT: 'staging',
      USSD_DEFAULT_COUNTRY: 'GH',
      SESSION_TTL_SECONDS: '1',
      SESSION_EXPIRY_SWEEP_MS: '100',
      HTTP_ALLOWED_HOSTS: '127.0.0.1', // the balance service listens there; http.request refuses it otherwise
    });
    code = uniqueServiceCode();
    await app.publish(balanceSpec(code, service.url, ['staging']));
  });
  afterAll(async () => {
    await app?.close();
    await service?.stop();
  });

  it('holds the same conversation through Hubtel (JSON), the second adapter', async () => {
    const subscriber = new HubtelPhone(app.url, code);
    const first = await subscriber.dial();
    expect(first.contentType).toMatch(/^application\/json/);
    expect(first.json).toMatchObject({ SessionId: subscriber.sessionId, Type: 'response', Message: 'Welcome\n1. Check balance\n2. Exit' });
    expect((await subscriber.send('1')).json).toMatchObject({ Type: 'response', Message: 'Enter account number' });
    expect((await subscriber.send('1234')).json).toMatchObject({ Type: 'release', Message: 'Balance: 1500. Well done!' });
    const session = (await app.call('GET', `/sessions/${subscriber.sessionId}`)).body;
    expect(session).toMatchObject({ msisdn: '+233241234567', isActive: false, data: { gateway: 'hubtel', environment: 'staging' } });
  });

  it('repeats the reply to a repeated Hubtel Sequence, and a Release notice cancels the execution', async () => {
    const subscriber = new HubtelPhone(app.url, code);
    await subscriber.dial();
    const once = await subscriber.send('1');
    const again = await subscriber.post(subscriber.request('Response', '1', 2));
    expect(again.raw).toBe(once.raw);
    const executionId = ((await app.call('GET', `/sessions/${subscriber.sessionId}`)).body['data'] as { executionId: string }).executionId;
    const released = await subscriber.post(subscriber.request('Release', '', 3));
    expect(released.status).toBe(200);
    expect(await app.logged(executionId, (body) => body['status'] !== 'running')).toMatchObject({ status: 'canceled' });
  });

  it('routes by environment: a code published only for production is not answered in staging', async () => {
    const productionOnly = uniqueServiceCode();
    await app.publish(balanceSpec(productionOnly, service.url, ['production']));
    const reply = await new AfricasTalkingPhone(app.url, productionOnly, '+233241234567').dial();
    expect(reply.body).toBe('END This service is not available right now. Please try again later.');
  });

  it('splits a long menu into pages with "98. More", and an option on page 2 still works', async () => {
    const pagedCode = uniqueServiceCode();
    const options = Array.from({ length: 12 }, (_, i) => ({ key: String(i + 1), label: `Option number ${i + 1} with a long label`, next: 'done' }));
    await app.publish({
      specVersion: 1,
      settings: { executionTimeoutMs: 60_000, maxSteps: 10 },
      triggers: [{ type: 'ussd', serviceCode: pagedCode, environments: ['staging'], entry: 'menu' }],
      nodes: [
        { id: 'menu', type: 'ussd.menu', text: 'Pick one', options, variable: 'choice' },
        { id: 'done', type: 'ussd.end', text: 'You picked {{ vars.choice }}. Ça coûte 5€ — “merci”' },
      ],
    });
    const subscriber = new AfricasTalkingPhone(app.url, pagedCode, '+233241234567');
    const pages: string[] = [(await subscriber.dial()).body];
    expect(pages[0]).toMatch(/^CON Pick one\n1\. Option number 1/);
    expect(pages[0]).toMatch(/\n98\. More$/);
    pages.push((await subscriber.send('98')).body);
    expect(pages[1]).toMatch(/\n0\. Back$/);
    for (const page of pages) expect(page.length - 'CON '.length).toBeLessThanOrEqual(182);
    expect((await subscriber.send('0')).body).toBe(pages[0]); // back to page 1
    const final = await subscriber.send('11');
    expect(final.body).toBe('END You picked 11. Ça coute 5€ - "merci"'); // GSM-7: accents and curly quotes converted deliberately
  });

  it('ends the paused execution as timeout when the session expires', async () => {
    const subscriber = new AfricasTalkingPhone(app.url, code, '+233241234567');
    await subscriber.dial();
    const executionId = ((await app.call('GET', `/sessions/${subscriber.sessionId}`)).body['data'] as { executionId: string }).executionId;
    const log = await app.logged(executionId, (body) => body['status'] === 'timeout');
    expect(log['error']).toMatchObject({ code: 'session.expired' });
    expect((log['nodes'] as { nodeId: string; status: string }[]).map((n) => `${n.nodeId}:${n.status}`)).toEqual(['menu:timeout']);
    expect((await app.call('GET', `/sessions/${subscriber.sessionId}`)).status).toBe(404);
    expect((await subscriber.send('1')).body).toBe('END Your session has ended. Please dial again.');
  });
});
