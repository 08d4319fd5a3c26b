import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { AfricasTalkingPhone, startUssdApp, uniqueServiceCode, type UssdTestApp } from './ussd-app.test-helpers.js';

const TOKEN = 'tok_live_ussd_51c9a0e2';

/**
 * USSD hops resolve the workflow team's secrets like the executions API: the real value goes to
 * the target, and what the subscriber sees, the session keeps and the logs hold is the mask.
 */
describe('USSD hops with secrets', () => {
  let app: UssdTestApp;
  let listener: Server;
  let code: string;
  const seen: string[] = [];

  beforeAll(async () => {
    listener = createServer((req, res) => {
      seen.push(String(req.headers['authorization']));
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ balance: 1500, echo: req.headers['authorization'] }));
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const address = listener.address();
    const target = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    app = await startUssdApp({ HTTP_ALLOWED_HOSTS: '127.0.0.1', SECRETS_KEYS: `1:${randomBytes(32).toString('base64')}` });
    expect((await app.call('PUT', '/secrets/BANK_TOKEN', { value: TOKEN })).status).toBe(201);
    code = uniqueServiceCode();
    await app.publish({
      specVersion: 1,
      settings: { executionTimeoutMs: 60_000, maxSteps: 20 },
      triggers: [{ type: 'ussd', serviceCode: code, environments: ['production'], entry: 'lookup' }],
      nodes: [
        { id: 'lookup', type: 'http.request', method: 'GET', url: `${target}/balance`, headers: { Authorization: 'Bearer {{ secrets.BANK_TOKEN }}' }, next: 'menu' },
        { id: 'menu', type: 'ussd.menu', text: 'Balance {{ nodes.lookup.body.balance }} ({{ nodes.lookup.body.echo }})', options: [{ key: '1', label: 'Done', next: 'bye' }] },
        { id: 'bye', type: 'ussd.end', text: 'Bye {{ secrets.BANK_TOKEN }}' },
      ],
    });
  });

  afterAll(async () => {
    await app?.close();
    listener?.closeAllConnections();
    await new Promise((resolve) => listener?.close(resolve));
  });

  it('sends the value, and the subscriber, the session and the execution log see only [secret:NAME]', async () => {
    const subscriber = new AfricasTalkingPhone(app.url, code);
    expect((await subscriber.dial()).body).toBe('CON Balance 1500 (Bearer [secret:BANK_TOKEN])\n1. Done');
    expect(seen).toEqual([`Bearer ${TOKEN}`]);
    const session = await app.call('GET', `/sessions/${subscriber.sessionId}`);
    expect(JSON.stringify(session.body)).not.toContain(TOKEN);
    expect(JSON.stringify(session.body)).toContain('[secret:BANK_TOKEN]');
    expect((await subscriber.send('1')).body).toBe('END Bye [secret:BANK_TOKEN]');
    const executionId = (session.body['data'] as { executionId: string }).executionId;
    const log = await app.logged(executionId, (body) => body['status'] === 'completed');
    expect(JSON.stringify(log)).not.toContain(TOKEN);
    expect(JSON.stringify(log)).toContain('[secret:BANK_TOKEN]');
  });
});
