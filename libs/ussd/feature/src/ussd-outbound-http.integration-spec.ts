import { createServer, type Server } from 'node:http';
import { AfricasTalkingPhone, balanceSpec, startUssdApp, uniqueServiceCode, type UssdTestApp } from './ussd-app.test-helpers.js';
import { USSD_MESSAGES } from './ussd-hop.service.js';

/**
 * USSD hops run http.request nodes through the same outbound client as the executions API
 * (OutboundHttpModule): with HTTP_ALLOWED_HOSTS unset, a lookup at 127.0.0.1 fails the node with
 * http.forbidden_address, the subscriber gets the polite END, and the listener sees nothing.
 */
describe('USSD http.request nodes refuse non-public addresses', () => {
  let app: UssdTestApp;
  let listener: Server;
  let connections = 0;
  let code: string;

  beforeAll(async () => {
    listener = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"balance":1500}'));
    listener.on('connection', () => (connections += 1));
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const address = listener.address();
    app = await startUssdApp(); // no HTTP_ALLOWED_HOSTS, as in production
    code = uniqueServiceCode();
    await app.publish(balanceSpec(code, `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`));
  });

  afterAll(async () => {
    await app?.close();
    listener?.closeAllConnections();
    await new Promise((resolve) => listener?.close(resolve));
  });

  it('ends the session politely, logs the node failed with http.forbidden_address, and sends nothing', async () => {
    const subscriber = new AfricasTalkingPhone(app.url, code);
    expect((await subscriber.dial()).body).toBe('CON Welcome\n1. Check balance\n2. Exit');
    expect((await subscriber.send('1')).body).toBe('CON Enter account number');
    expect((await subscriber.send('1234')).body).toBe(`END ${USSD_MESSAGES.error}`);
    const data = (await app.call('GET', `/sessions/${subscriber.sessionId}`)).body['data'] as { executionId: string };
    const log = await app.logged(data.executionId, (body) => body['status'] === 'failed');
    expect(log).toMatchObject({ error: { code: 'http.forbidden_address' } });
    expect((log['nodes'] as { nodeId: string; status: string; error: { code: string } | null }[]).find((n) => n.nodeId === 'lookup')).toMatchObject({ status: 'failed', error: { code: 'http.forbidden_address' } });
    expect(connections).toBe(0);
  });
});
