import { createTestKey } from '@ussd/platform-testing';
import { AfricasTalkingPhone, startUssdApp, uniqueServiceCode, type UssdTestApp } from './ussd-app.test-helpers.js';

const NUMBER = '+254712345678';
const MASKED = '+2547****678';

function spec(serviceCode: string) {
  return {
    specVersion: 1,
    settings: { executionTimeoutMs: 60_000, maxSteps: 20 },
    triggers: [{ type: 'ussd', serviceCode, environments: ['production'], entry: 'menu' }],
    nodes: [
      { id: 'menu', type: 'ussd.menu', text: 'Welcome', options: [{ key: '1', label: 'My number', next: 'number' }], invalidText: 'Invalid choice.' },
      { id: 'number', type: 'ussd.end', text: 'Your number is {{ session.msisdn }}.' },
    ],
  };
}

/** Reads sessions and executions as `headers` would; every body as JSON text, to search for the number anywhere. */
async function read(app: UssdTestApp, headers: Record<string, string>, path: string): Promise<{ status: number; text: string; body: Record<string, unknown> }> {
  const response = await fetch(`${app.url}${path}`, { headers });
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Record<string, unknown> };
}

describe.each([
  ['on (the default)', {}, true],
  ['off (MASK_PHONE_NUMBERS_FOR_VIEWERS=false)', { MASK_PHONE_NUMBERS_FOR_VIEWERS: 'false' }, false],
])('phone numbers in session and execution responses, masking %s', (_label, env: Record<string, string>, masked: boolean) => {
  let app: UssdTestApp;
  let viewer: Record<string, string>;
  let editor: Record<string, string>;
  let workflowId: string;
  let subscriber: AfricasTalkingPhone;
  let executionId: string;

  beforeAll(async () => {
    app = await startUssdApp(env);
    viewer = (await createTestKey(app.database.url, 'viewer')).headers;
    editor = (await createTestKey(app.database.url, 'editor')).headers;
    const code = uniqueServiceCode();
    workflowId = await app.publish(spec(code));
    subscriber = new AfricasTalkingPhone(app.url, code, NUMBER);
    expect((await subscriber.dial()).body).toBe('CON Welcome\n1. My number');
    const session = await read(app, editor, `/sessions/${subscriber.sessionId}`);
    executionId = (session.body['data'] as { executionId: string }).executionId;
    await app.logged(executionId); // a paused execution is logged as running
  });
  afterAll(async () => {
    await app?.close();
  });

  const paths = () => [`/sessions/${subscriber.sessionId}`, `/sessions?msisdn=${encodeURIComponent(NUMBER)}`, `/executions/${executionId}`, '/executions', `/workflows/${workflowId}/executions`];

  it(`a viewer ${masked ? 'sees the number masked' : 'sees the number'} in sessions and executions`, async () => {
    for (const path of paths()) {
      const response = await read(app, viewer, path);
      expect([path, response.status]).toEqual([path, 200]);
      // The list by msisdn echoes what the viewer asked for; nothing else may carry the number.
      const text = path.startsWith('/sessions?') ? response.text.replace(`"msisdn":"${NUMBER}","items"`, '"msisdn":"(asked)","items"') : response.text;
      if (masked) {
        expect([path, text.includes('712345')]).toEqual([path, false]);
        expect([path, text.includes(MASKED)]).toEqual([path, true]);
      } else expect([path, text.includes(NUMBER)]).toEqual([path, true]);
    }
    const session = await read(app, viewer, `/sessions/${subscriber.sessionId}`);
    expect(session.body['msisdn']).toBe(masked ? MASKED : NUMBER);
    const execution = await read(app, viewer, `/executions/${executionId}`);
    expect((execution.body['triggerPayload'] as Record<string, unknown>)['msisdn']).toBe(masked ? MASKED : NUMBER);
    expect((execution.body['triggerPayload'] as Record<string, unknown>)['phoneNumber']).toBe(masked ? MASKED : NUMBER);
  });

  it('an editor and an admin always see the number whole', async () => {
    for (const headers of [editor, app.auth]) {
      for (const path of paths()) {
        const response = await read(app, headers, path);
        expect([path, response.status, response.text.includes(NUMBER)]).toEqual([path, 200, true]);
      }
    }
  });

  it(`${masked ? 'masks' : 'keeps'} the number where the workflow repeated it (a node's output) for a viewer, after the conversation ends`, async () => {
    expect((await subscriber.send('1')).body).toBe(`END Your number is ${NUMBER}.`);
    const done = await app.logged(executionId, (body) => body['status'] === 'completed');
    expect(JSON.stringify(done)).toContain(`Your number is ${NUMBER}.`); // the admin sees it whole
    const seen = await read(app, viewer, `/executions/${executionId}`);
    expect(seen.text.includes(`Your number is ${masked ? MASKED : NUMBER}.`)).toBe(true);
    if (masked) expect(seen.text).not.toContain('712345');
  });

  it('a viewer still finds a subscriber’s sessions by the full number (the query is the viewer’s own input)', async () => {
    const other = new AfricasTalkingPhone(app.url, subscriber.serviceCode, NUMBER);
    await other.dial();
    const found = await read(app, viewer, `/sessions?msisdn=${encodeURIComponent('0712345678')}`);
    expect(found.status).toBe(200);
    expect(found.body['msisdn']).toBe(NUMBER);
    expect((found.body['items'] as { sessionId: string; msisdn: string }[]).map((s) => [s.sessionId, s.msisdn])).toEqual([[other.sessionId, masked ? MASKED : NUMBER]]);
  });
});
