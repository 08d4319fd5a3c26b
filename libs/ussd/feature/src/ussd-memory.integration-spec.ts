import { readFileSync } from 'node:fs';
import { AfricasTalkingPhone, balanceSpec, startUssdApp, TestService, uniqueServiceCode, type UssdTestApp } from './ussd-app.test-helpers.js';

/**
 * The embedded default: no REDIS_URL, so sessions live in the in-memory store. The same
 * conversation, retry and expiry behaviour as with Redis (PostgreSQL is still real).
 */
describe('USSD conversations on the in-memory session store', () => {
  let app: UssdTestApp;
  let service: TestService;
  let code: string;

  beforeAll(async () => {
    service = new TestService();
    await service.start();
    // The balance service listens on 127.0.0.1, which http.request refuses unless the allowlist names it.
    app = await startUssdApp({ SESSION_TTL_SECONDS: '1', SESSION_EXPIRY_SWEEP_MS: '100', HTTP_ALLOWED_HOSTS: '127.0.0.1' });
    code = uniqueServiceCode();
    await app.publish(balanceSpec(code, service.url));
  });
  afterAll(async () => {
    await app?.close();
    await service?.stop();
  });

  it('walks the menu to the end and answers a retry of the last hop identically', async () => {
    const subscriber = new AfricasTalkingPhone(app.url, code);
    expect((await subscriber.dial()).body).toBe('CON Welcome\n1. Check balance\n2. Exit');
    expect((await subscriber.send('1')).body).toBe('CON Enter account number');
    const calls = service.calls;
    expect((await subscriber.send('9999')).body).toBe('END Balance: 20.');
    expect((await subscriber.repeat()).body).toBe('END Balance: 20.');
    expect(service.calls - calls).toBe(1);
    const session = (await app.call('GET', `/sessions/${subscriber.sessionId}`)).body;
    expect(session).toMatchObject({ msisdn: '+254712345678', isActive: false });
    const executionId = (session['data'] as { executionId: string }).executionId;
    expect(await app.logged(executionId, (body) => body['status'] === 'completed')).toMatchObject({ sessionId: subscriber.sessionId });
  });

  it('walks the example of docs/ussd.md exactly as the page shows it', async () => {
    const example = JSON.parse(readFileSync(new URL('../../../../docs/examples/ussd-balance.json', import.meta.url), 'utf8')) as { spec: unknown };
    const page = readFileSync(new URL('../../../../docs/ussd.md', import.meta.url), 'utf8');
    const id = await app.publish(example.spec);
    // Over HTTP it is refused (no http trigger) with the detail the page quotes, and nothing runs.
    const overHttp = await app.call('POST', `/workflows/${id}/executions`);
    expect([overHttp.status, overHttp.body['type']]).toEqual([409, 'urn:problem:execution:no-http-trigger']);
    expect(page).toContain(`# 409\n# ${String(overHttp.body['detail']).replace(id, '<ID>')}\n`);
    const subscriber = new AfricasTalkingPhone(app.url, '*384*123#', '0712345678');
    expect((await subscriber.dial()).body).toBe('CON Welcome to MyBank\n1. Check balance\n2. Exit');
    expect((await subscriber.send('1')).body).toBe('CON Enter your 4-digit account number');
    expect((await subscriber.send('12')).body).toBe('CON Invalid input.\nEnter your 4-digit account number');
    expect((await subscriber.send('1234')).body).toBe('END Your balance is KES 3702. Well done!');
    expect((await subscriber.repeat()).body).toBe('END Your balance is KES 3702. Well done!');
    const data = (await app.call('GET', `/sessions/${subscriber.sessionId}`)).body['data'] as { executionId: string };
    const log = await app.logged(data.executionId, (body) => body['status'] === 'completed');
    expect((log['nodes'] as { nodeId: string }[]).map((n) => n.nodeId)).toEqual(['menu', 'account', 'balance', 'branch', 'rich']);
    expect(((await app.call('GET', `/workflows/${id}/executions`)).body['items'] as unknown[]).length).toBe(1); // the USSD one only
  });

  it('ends the paused execution as timeout when the session expires', async () => {
    const subscriber = new AfricasTalkingPhone(app.url, code);
    await subscriber.dial();
    const executionId = ((await app.call('GET', `/sessions/${subscriber.sessionId}`)).body['data'] as { executionId: string }).executionId;
    expect(await app.logged(executionId, (body) => body['status'] === 'timeout')).toMatchObject({ error: { code: 'session.expired' } });
    expect((await app.call('GET', `/sessions/${subscriber.sessionId}`)).status).toBe(404);
  });
});
