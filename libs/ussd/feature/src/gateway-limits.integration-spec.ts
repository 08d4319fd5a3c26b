import { randomUUID } from 'node:crypto';
import type { Registry } from 'prom-client';
import { METRICS_REGISTRY } from '@ussd/platform-http';
import { requireRedis } from '@ussd/platform-testing';
import { balanceSpec, post, postForm, startUssdApp, uniqueServiceCode, type UssdTestApp } from './ussd-app.test-helpers.js';

function atHop(code: string, phoneNumber: string) {
  return { sessionId: `ATUid_${randomUUID()}`, serviceCode: code, phoneNumber, networkCode: '63902', text: '' };
}

function hubtelHop(code: string, mobile: string) {
  return { Type: 'Initiation', Mobile: mobile, SessionId: randomUUID().replaceAll('-', ''), ServiceCode: code, Message: code, Operator: 'mtn', Sequence: 1, Platform: 'USSD' };
}

async function limited(app: UssdTestApp): Promise<number> {
  const metric = await app.running.app.get<symbol, Registry>(METRICS_REGISTRY).getSingleMetric('rate_limited_total')?.get();
  return metric?.values.find((value) => value.labels['limit'] === 'msisdn')?.value ?? 0;
}

describe('hops per phone number, across two replicas sharing Redis', () => {
  let first: UssdTestApp;
  let second: UssdTestApp;
  let code: string;

  beforeAll(async () => {
    const shared = { REDIS_URL: await requireRedis(), REDIS_KEY_PREFIX: `test-${randomUUID()}`, USSD_DEFAULT_COUNTRY: 'GH', RATE_LIMIT_MSISDN_HOPS_PER_MINUTE: '3' };
    first = await startUssdApp(shared);
    second = await startUssdApp(shared);
    code = uniqueServiceCode();
    await first.publish(balanceSpec(code, 'http://127.0.0.1:9'));
    // Both replicas answer the same workflows: publish on the second one's database too.
    await second.publish(balanceSpec(code, 'http://127.0.0.1:9'));
  });
  afterAll(async () => {
    await first?.close();
    await second?.close();
  });

  it("counts one number's hops on both replicas and both gateways, then answers 429 with Retry-After and an END in the gateway's format", async () => {
    // The same subscriber written three ways: national, international with +, Hubtel's without.
    expect((await postForm(first.url, '/ussd/africastalking', atHop(code, '0241234567'))).status).toBe(200);
    expect((await postForm(second.url, '/ussd/africastalking', atHop(code, '+233241234567'))).status).toBe(200);
    expect((await post(first.url, '/ussd/hubtel', 'application/json', JSON.stringify(hubtelHop(code, '233241234567')))).status).toBe(200);

    const before = await limited(second);
    const refusedHop = atHop(code, '+233 24 123 4567');
    const refused = await fetch(`${second.url}/ussd/africastalking`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(refusedHop) });
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter >= 1 && retryAfter <= 60).toBe(true);
    expect(await refused.text()).toBe('END Too many requests from this phone. Please try again in a minute.');
    expect(await limited(second)).toBe(before + 1);
    expect((await second.call('GET', `/sessions/${refusedHop.sessionId}`)).status).toBe(404);

    const hubtel = hubtelHop(code, '233241234567');
    const refusedJson = await post(first.url, '/ussd/hubtel', 'application/json', JSON.stringify(hubtel));
    expect(refusedJson.status).toBe(429);
    expect(JSON.parse(refusedJson.body)).toMatchObject({ SessionId: hubtel.SessionId, Type: 'release', Message: 'Too many requests from this phone. Please try again in a minute.' });

    // Another subscriber is not affected.
    expect((await postForm(first.url, '/ussd/africastalking', atHop(code, '0241234568'))).status).toBe(200);
  });

  it('does not count end-of-session notices', async () => {
    const notice = { sessionId: `ATUid_${randomUUID()}`, serviceCode: code, phoneNumber: '+233501234567', status: 'Success' };
    for (let i = 0; i < 5; i++) expect((await postForm(first.url, '/ussd/africastalking', notice)).status).toBe(200);
    expect((await postForm(first.url, '/ussd/africastalking', atHop(code, '+233501234567'))).status).toBe(200);
  });
});

describe('hops per phone number, in memory (no REDIS_URL)', () => {
  let app: UssdTestApp;
  afterAll(async () => {
    await app?.close();
  });

  it('refuses the hop over the limit with 429 and Retry-After', async () => {
    app = await startUssdApp({ RATE_LIMIT_MSISDN_HOPS_PER_MINUTE: '2' });
    const code = uniqueServiceCode();
    await app.publish(balanceSpec(code, 'http://127.0.0.1:9'));
    expect((await postForm(app.url, '/ussd/africastalking', atHop(code, '+254712345678'))).status).toBe(200);
    expect((await postForm(app.url, '/ussd/africastalking', atHop(code, '0712345678'))).status).toBe(200);
    const refused = await postForm(app.url, '/ussd/africastalking', atHop(code, '254712345678'));
    expect([refused.status, refused.body]).toEqual([429, 'END Too many requests from this phone. Please try again in a minute.']);
  });
});
