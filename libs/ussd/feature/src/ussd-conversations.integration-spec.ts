import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { requireRedis } from '@ussd/platform-testing';
import { AfricasTalkingPhone, balanceSpec, post, postForm, startUssdApp, TestService, uniqueServiceCode, type UssdTestApp } from './ussd-app.test-helpers.js';

/**
 * Whole conversations through the gateway endpoints, sessions in real Redis, logs in real
 * PostgreSQL: menu -> input -> HTTP call to a local service -> branch -> end.
 */
describe('USSD conversations (Redis sessions, PostgreSQL logs)', () => {
  let app: UssdTestApp;
  let service: TestService;
  let redis: Redis;
  let code: string;
  const prefix = `test-${randomUUID()}`;

  beforeAll(async () => {
    const redisUrl = await requireRedis();
    redis = new Redis(redisUrl);
    service = new TestService();
    await service.start();
    // The balance service listens on 127.0.0.1, which http.request refuses unless the allowlist names it.
    app = await startUssdApp({ REDIS_URL: redisUrl, REDIS_KEY_PREFIX: prefix, USSD_ENVIRONMENT: 'production', USSD_HOP_DEADLINE_MS: '1500', HTTP_ALLOWED_HOSTS: '127.0.0.1' });
    code = uniqueServiceCode();
    await app.publish(balanceSpec(code, service.url));
  });
  afterAll(async () => {
    await app?.close();
    await service?.stop();
    redis?.disconnect();
  });

  beforeEach(() => {
    service.delayMs = 0;
  });

  const phone = (number = '+254712345678') => new AfricasTalkingPhone(app.url, code, number);

  async function sessionOf(sessionId: string) {
    return (await app.call('GET', `/sessions/${encodeURIComponent(sessionId)}`)).body;
  }

  it("walks the menu through Africa's Talking: CON screens, then END with the branch's answer; one execution with every node logged", async () => {
    const subscriber = phone();
    const first = await subscriber.dial();
    expect(first).toMatchObject({ status: 200, contentType: 'text/plain; charset=utf-8', body: 'CON Welcome\n1. Check balance\n2. Exit' });
    expect((await subscriber.send('1')).body).toBe('CON Enter account number');
    const last = await subscriber.send('1234');
    expect(last.body).toBe('END Balance: 1500. Well done!');

    const session = await sessionOf(subscriber.sessionId);
    expect(Object.keys(session).sort()).toEqual(['createdAt', 'data', 'isActive', 'lastActivityAt', 'msisdn', 'sessionId', 'type']);
    expect(session).toMatchObject({ sessionId: subscriber.sessionId, type: 'ussd', msisdn: '+254712345678', isActive: false });
    const executionId = (session['data'] as { executionId: string }).executionId;
    const log = await app.logged(executionId, (body) => body['status'] === 'completed');
    expect(log).toMatchObject({ sessionId: subscriber.sessionId, triggerPayload: expect.objectContaining({ msisdn: '+254712345678', serviceCode: code }) });
    expect((log['nodes'] as { nodeId: string; status: string }[]).map((n) => `${n.nodeId}:${n.status}`)).toEqual([
      'menu:completed',
      'account:completed',
      'lookup:completed',
      'branch:completed',
      'rich:completed',
    ]);
    // The session key is exactly the seed's, with a TTL.
    expect(await redis.ttl(`session:${subscriber.sessionId}`)).toBeGreaterThan(3000);
  });

  it('takes the other branch for another account, and re-prompts an invalid menu choice and an invalid input', async () => {
    const subscriber = phone();
    await subscriber.dial();
    expect((await subscriber.send('7')).body).toBe('CON Invalid choice.\nWelcome\n1. Check balance\n2. Exit');
    expect((await subscriber.send('1')).body).toBe('CON Enter account number');
    expect((await subscriber.send('12')).body).toBe('CON Invalid input.\nEnter account number');
    expect((await subscriber.send('9999')).body).toBe('END Balance: 20.');
  });

  it('answers a repeated hop (a gateway retry) byte for byte without advancing the workflow twice', async () => {
    const subscriber = phone();
    await subscriber.dial();
    await subscriber.send('1');
    const callsBefore = service.calls;
    const answer = await subscriber.send('1234');
    const retry = await subscriber.repeat();
    expect(retry.body).toBe(answer.body);
    expect(retry.contentType).toBe(answer.contentType);
    expect(service.calls - callsBefore).toBe(1);
    const executionId = ((await sessionOf(subscriber.sessionId))['data'] as { executionId: string }).executionId;
    const log = await app.logged(executionId, (body) => body['status'] === 'completed');
    expect((log['nodes'] as { nodeId: string }[]).filter((n) => n.nodeId === 'lookup')).toHaveLength(1);
  });

  it('serialises two different hops of one session that arrive at once', async () => {
    const subscriber = phone();
    await subscriber.dial();
    service.delayMs = 300;
    await subscriber.send('1');
    // Two hops racing: the account number, and (as if typed twice) the same plus another input.
    const form = subscriber.form({ text: '1*1234' });
    const [a, b] = await Promise.all([subscriber.post(form), subscriber.post({ ...form, text: '1*1234*5' })]);
    const bodies = [a.body, b.body].sort();
    // One hop ran the lookup and ended the conversation; the other, serialised after it, found the session over.
    expect(bodies).toEqual(['END Balance: 1500. Well done!', 'END Your session has ended. Please dial again.'].sort());
    expect(service.calls).toBeGreaterThan(0);
    const executionId = ((await sessionOf(subscriber.sessionId))['data'] as { executionId: string }).executionId;
    const log = await app.logged(executionId, (body) => body['status'] === 'completed');
    expect((log['nodes'] as { nodeId: string }[]).filter((n) => n.nodeId === 'lookup')).toHaveLength(1);
  });

  it('rejects a session id presented with another phone number, without touching the session', async () => {
    const subscriber = phone();
    await subscriber.dial();
    const before = await sessionOf(subscriber.sessionId);
    const hijack = await subscriber.post(subscriber.form({ phoneNumber: '+254733000111', text: '2' }));
    expect(hijack).toMatchObject({ status: 200, body: 'END Sorry, this session belongs to another phone number.' });
    expect(await sessionOf(subscriber.sessionId)).toEqual(before);
    expect((await subscriber.send('2')).body).toBe('END Goodbye'); // the real subscriber carries on
  });

  it('normalises phone numbers to E.164 and refuses unreadable ones with a clean END', async () => {
    const local = phone('0712345678');
    await local.dial();
    expect((await sessionOf(local.sessionId))['msisdn']).toBe('+254712345678');
    const bad = phone('12');
    expect(await bad.dial()).toMatchObject({ status: 200, body: 'END Sorry, your phone number could not be read.' });
    expect((await app.call('GET', `/sessions/${bad.sessionId}`)).status).toBe(404);
  });

  it('answers END with a friendly message for a code no published workflow answers', async () => {
    const stranger = new AfricasTalkingPhone(app.url, '*999*1#');
    expect(await stranger.dial()).toMatchObject({ status: 200, body: 'END This service is not available right now. Please try again later.' });
  });

  it('answers within the hop deadline when a node is slow, and ends the execution as timeout', async () => {
    const subscriber = phone();
    await subscriber.dial();
    await subscriber.send('1');
    service.delayMs = 5000;
    const reply = await subscriber.send('1234');
    expect(reply.body).toBe('END Sorry, the service is taking too long. Please try again later.');
    expect(reply.ms).toBeLessThan(1500);
    const executionId = ((await sessionOf(subscriber.sessionId))['data'] as { executionId: string }).executionId;
    const log = await app.logged(executionId, (body) => body['status'] !== 'running');
    expect(log).toMatchObject({ status: 'timeout', error: { code: 'execution.timeout' } });
  });

  it('answers END (never a 500 or an empty body) when the session in Redis is corrupt', async () => {
    const subscriber = phone();
    await subscriber.dial();
    await redis.set(`session:${subscriber.sessionId}`, '{"not":"a session"', 'EX', 60);
    const reply = await subscriber.send('1');
    expect(reply).toMatchObject({ status: 200, body: 'END Sorry, something went wrong. Please try again later.' });
  });

  it("closes the session and cancels the execution on Africa's Talking's end-of-session notification", async () => {
    const subscriber = phone();
    await subscriber.dial();
    const notice = await postForm(app.url, '/ussd/africastalking', { sessionId: subscriber.sessionId, status: 'Incomplete', errorMessage: 'subscriber hung up', phoneNumber: subscriber.phoneNumber, serviceCode: code, networkCode: '63902', hopsCount: '1', durationInMillis: '1500', input: '', lastAppResponse: 'CON Welcome', cost: 'KES 0.00', date: '2026-11-27 12:00:00' });
    expect(notice.status).toBe(200);
    const session = await sessionOf(subscriber.sessionId);
    expect(session['isActive']).toBe(false);
    const executionId = (session['data'] as { executionId: string }).executionId;
    expect(await app.logged(executionId, (body) => body['status'] !== 'running')).toMatchObject({ status: 'canceled', error: { code: 'session.ended' } });
    expect((await subscriber.send('1')).body).toBe('END Your session has ended. Please dial again.');
  });

  it('lists, reads and ends sessions over the API; ending cancels the paused execution', async () => {
    const number = `+2547${Math.floor(Math.random() * 9e7 + 1e7)}`;
    const [a, b] = [phone(number), phone(number)];
    await a.dial();
    await b.dial();
    const listed = await app.call('GET', `/sessions?msisdn=${encodeURIComponent(number)}`);
    expect(listed.status).toBe(200);
    expect((listed.body['items'] as { sessionId: string }[]).map((s) => s.sessionId).sort()).toEqual([a.sessionId, b.sessionId].sort());
    const executionId = ((await sessionOf(a.sessionId))['data'] as { executionId: string }).executionId;
    const ended = await app.call('DELETE', `/sessions/${a.sessionId}`);
    expect(ended.status).toBe(200);
    expect(ended.body['sessionId']).toBe(a.sessionId);
    expect((await app.call('GET', `/sessions/${a.sessionId}`)).status).toBe(404);
    expect((await app.call('DELETE', `/sessions/${a.sessionId}`)).status).toBe(404);
    expect(await app.logged(executionId, (body) => body['status'] !== 'running')).toMatchObject({ status: 'canceled' });
    expect(((await app.call('GET', `/sessions?msisdn=${encodeURIComponent(number)}`)).body['items'] as unknown[]).length).toBe(1);
  });

  it('pins the version a session started on: a publish mid-session changes new sessions only; an `end` node replies END Thank you.', async () => {
    const pinnedCode = uniqueServiceCode();
    const workflowId = await app.publish(balanceSpec(pinnedCode, service.url));
    const before = new AfricasTalkingPhone(app.url, pinnedCode);
    expect((await before.dial()).body).toBe('CON Welcome\n1. Check balance\n2. Exit');
    const v2 = {
      ...balanceSpec(pinnedCode, service.url),
      nodes: [
        { id: 'menu', type: 'ussd.menu', text: 'Version two', options: [{ key: '1', label: 'Done', next: 'stop' }] },
        { id: 'stop', type: 'end' },
      ],
    };
    expect((await app.call('POST', `/workflows/${workflowId}/versions`, { spec: v2 })).status).toBe(201);
    expect((await app.call('POST', `/workflows/${workflowId}/versions/2/publish`)).status).toBe(200);
    const after = new AfricasTalkingPhone(app.url, pinnedCode);
    expect((await after.dial()).body).toBe('CON Version two\n1. Done');
    expect((await after.send('1')).body).toBe('END Thank you.');
    // The first subscriber is still on version 1.
    expect((await before.send('2')).body).toBe('END Goodbye');
    const data = (await sessionOf(before.sessionId))['data'] as { version: number; executionId: string };
    expect(data.version).toBe(1);
    expect(await app.logged(data.executionId, (body) => body['status'] === 'completed')).toMatchObject({ workflowVersion: 1 });
  });

  it('answers DELETE with 409 and Retry-After while a hop holds the session past the deadline, and leaves it alone', async () => {
    const subscriber = phone();
    await subscriber.dial();
    // Another replica's hop holding the lease (as the store writes it).
    await redis.set(`${prefix}:session-lease:${subscriber.sessionId}`, 'another-replica', 'PX', 10_000);
    const started = Date.now();
    const response = await fetch(`${app.url}/sessions/${subscriber.sessionId}`, { method: 'DELETE', headers: app.auth });
    expect(response.status).toBe(409);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(Date.now() - started).toBeLessThan(3000);
    expect((await app.call('GET', `/sessions/${subscriber.sessionId}`)).body['isActive']).toBe(true);
    await redis.del(`${prefix}:session-lease:${subscriber.sessionId}`);
    expect((await app.call('DELETE', `/sessions/${subscriber.sessionId}`)).status).toBe(200);
  });

  it('refuses malformed and hostile requests cleanly', async () => {
    const at = '/ussd/africastalking';
    const missing = await postForm(app.url, at, { sessionId: 'x' });
    expect(missing).toMatchObject({ status: 400, body: 'END Sorry, this request could not be understood.' });
    const wrongType = await post(app.url, at, 'application/json', JSON.stringify({ sessionId: 'x' }));
    expect(wrongType).toMatchObject({ status: 415, body: 'END Sorry, this request could not be understood.' });
    const huge = await postForm(app.url, at, { ...phone().form(), text: '1*'.repeat(2000) });
    expect(huge.status).toBe(400);
    const poisoned = await post(app.url, at, 'application/x-www-form-urlencoded', `__proto__=x&${new URLSearchParams(phone().form()).toString()}`);
    expect(poisoned.status).toBeGreaterThanOrEqual(400);
    expect(poisoned.status).toBeLessThan(500);
    expect((await post(app.url, '/ussd/nope', 'application/json', '{}')).status).toBe(404);
    const errorsOf = async (method: string, path: string) => {
      const response = await app.call(method, path);
      expect([path, response.status]).toEqual([path, 400]);
      return (response.body['errors'] as { in: string; pointer: string; code: string }[]).map((e) => `${e.in} ${e.pointer} ${e.code}`);
    };
    for (const id of ['x'.repeat(300), 'a%20b', '%C3%A9t%C3%A9', '%00']) {
      expect(await errorsOf('GET', `/sessions/${id}`)).toEqual(['path /sessionId invalid-format']);
      expect(await errorsOf('DELETE', `/sessions/${id}`)).toEqual(['path /sessionId invalid-format']);
    }
    expect(await errorsOf('GET', '/sessions?msisdn=abc')).toEqual(['query /msisdn msisdn-invalid-characters']);
    expect(await errorsOf('GET', '/sessions')).toEqual(['query /msisdn invalid-type']);
    expect(await errorsOf('GET', '/sessions?msisdn=1&msisdn=2')).toEqual(['query /msisdn invalid-type']);
    expect(await errorsOf('GET', '/sessions?msisdn=%2B254712345678&x=1')).toEqual(['query /x unknown-parameter']);
  });
});
