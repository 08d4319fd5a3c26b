import { randomUUID } from 'node:crypto';
import { requireRedis, TcpProxy } from '@ussd/platform-testing';
import { AfricasTalkingPhone, balanceSpec, startUssdApp, TestService, uniqueServiceCode, type UssdTestApp } from './ussd-app.test-helpers.js';

/** Redis cut under a live conversation: polite ENDs (never a 500 or an empty body), then recovery. */
describe('USSD hops while Redis is unreachable', () => {
  let app: UssdTestApp;
  let service: TestService;
  let proxy: TcpProxy;
  let code: string;

  beforeAll(async () => {
    const redisUrl = await requireRedis();
    proxy = await TcpProxy.forUrl(redisUrl).start();
    service = new TestService();
    await service.start();
    // The balance service listens on 127.0.0.1, which http.request refuses unless the allowlist names it.
    app = await startUssdApp({ REDIS_URL: proxy.rewrite(redisUrl), REDIS_KEY_PREFIX: `test-${randomUUID()}`, USSD_HOP_DEADLINE_MS: '1000', EVENT_INGEST_IN_API: 'true', HTTP_ALLOWED_HOSTS: '127.0.0.1' });
    code = uniqueServiceCode();
    await app.publish(balanceSpec(code, service.url));
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.stop();
    await service?.stop();
  });

  it('answers END with a friendly message while Redis is down, within the deadline, and carries on once it is back', async () => {
    const subscriber = new AfricasTalkingPhone(app.url, code);
    expect((await subscriber.dial()).body).toBe('CON Welcome\n1. Check balance\n2. Exit');
    await proxy.cut();
    const during = await new AfricasTalkingPhone(app.url, code).dial();
    expect(during.status).toBe(200);
    expect(during.body).toMatch(/^END (Sorry, something went wrong|The service is busy)/);
    expect(during.ms).toBeLessThan(3000);
    await proxy.restore();
    const deadline = Date.now() + 10_000;
    let after = await new AfricasTalkingPhone(app.url, code).dial();
    while (!after.body.startsWith('CON') && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      after = await new AfricasTalkingPhone(app.url, code).dial();
    }
    expect(after.body).toBe('CON Welcome\n1. Check balance\n2. Exit');
    expect((await subscriber.send('2')).body).toBe('END Goodbye'); // the session from before the outage is intact
  });
});
