import { createHttpClient, HTTP_MAX_REDIRECTS, HttpClientError, type ClosableHttpClient, type HostResolver, type HttpClientOptions } from './http-client.js';
import { closedPort, startServer, type TestServer } from './http.test-helpers.js';

/**
 * The client refuses non-public addresses before it connects. A real listener on 127.0.0.1
 * counts TCP connections: for every refused form the count does not move, so not one byte of
 * the request reached it. Host names go through an injected resolver (no real DNS).
 */
describe('createHttpClient: only public addresses, checked when connecting', () => {
  let server: TestServer;
  const clients: ClosableHttpClient[] = [];

  beforeAll(async () => {
    server = await startServer({
      '/metrics': (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('secret_metric 1'),
      '/once': (_req, res) => res.writeHead(200, { connection: 'close' }).end('ok'),
      '/redirect': (_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${server.port}/metrics` }).end(),
    });
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await server.close();
  });

  /** A resolver answering from a table (a list, or a function for answers that change), recording every question. */
  function resolver(answers: Record<string, readonly string[] | (() => readonly string[])>): { resolve: HostResolver; asked: string[] } {
    const asked: string[] = [];
    const resolve: HostResolver = async (hostname) => {
      asked.push(hostname);
      const entry = answers[hostname.toLowerCase().replace(/\.$/, '')];
      if (entry === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
      return (typeof entry === 'function' ? entry() : entry).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
    return { resolve, asked };
  }

  function client(options: Partial<HttpClientOptions> = {}): ClosableHttpClient {
    const created = createHttpClient({ connectTimeoutMs: 1_000, maxResponseBytes: 4_096, ...options });
    clients.push(created);
    return created;
  }

  type Outcome = { status: number; body: string } | { code: string; message: string };
  const get = (http: ClosableHttpClient, url: string): Promise<Outcome> =>
    http.request({ method: 'GET', url, headers: {}, timeoutMs: 2_000 }).then(
      (response) => ({ status: response.status, body: response.body }),
      (error: unknown) => (error instanceof HttpClientError ? { code: error.code, message: error.message } : { code: 'other', message: String(error) }),
    );

  /** Runs `work` and answers how many connections the listener accepted meanwhile (a short grace for late arrivals). */
  async function connectionsDuring(work: () => Promise<unknown>): Promise<number> {
    const before = server.connections;
    await work();
    await new Promise((resolve) => setTimeout(resolve, 20));
    return server.connections - before;
  }

  const at = (template: string) => template.replace('PORT', String(server.port));

  it.each([
    'http://127.0.0.1:PORT/metrics',
    'http://2130706433:PORT/metrics', // decimal
    'http://0177.0.0.1:PORT/metrics', // octal
    'http://0x7f.1:PORT/metrics', // hex, short
    'http://0x7f000001:PORT/metrics',
    'http://0x7F.0.0.1:PORT/metrics',
    'http://127.1:PORT/metrics', // short forms
    'http://127.0.1:PORT/metrics',
    'http://127.0.0.1.:PORT/metrics', // trailing dot
    'http://%31%32%37.0.0.1:PORT/metrics', // percent-encoded
    'http://１２７.０.０.１:PORT/metrics', // full-width digits
    'http://127。0。0。1:PORT/metrics', // ideographic full stops
    'http://user:pw@127.0.0.1:PORT/metrics',
    'https://127.0.0.1:PORT/metrics',
    'http://0:PORT/metrics', // 0.0.0.0, which Linux connects to this machine
    'http://0.0.0.0:PORT/metrics',
    'http://[::1]:PORT/metrics',
    'http://[0:0:0:0:0:0:0:1]:PORT/metrics',
    'http://[::]:PORT/metrics',
    'http://[::ffff:127.0.0.1]:PORT/metrics', // IPv4-mapped: reaches the IPv4 listener on a dual-stack host
    'http://[::ffff:7f00:1]:PORT/metrics',
    'http://[0:0:0:0:0:ffff:127.0.0.1]:PORT/metrics',
    'http://[64:ff9b::127.0.0.1]:PORT/metrics', // NAT64
    'http://localhost:PORT/metrics',
    'http://LOCALHOST.:PORT/metrics',
    'http://metrics.localhost:PORT/metrics',
  ])('refuses %s before connecting: http.forbidden_address, no lookup, no connection', async (template) => {
    const { resolve, asked } = resolver({});
    const http = client({ resolve });
    let outcome: Outcome | undefined;
    expect(await connectionsDuring(async () => (outcome = await get(http, at(template))))).toBe(0);
    expect(outcome).toMatchObject({ code: 'forbidden_address', message: expect.stringMatching(/^refused to call \S+: /) as unknown });
    expect((outcome as { message: string }).message).not.toContain(String(server.port));
    expect(asked).toEqual([]);
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', 'link-local'],
    ['http://2852039166/latest/meta-data/', 'link-local'], // 169.254.169.254 in decimal
    ['http://[::ffff:169.254.169.254]/', 'link-local'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'link-local'],
    ['http://[fe80::1]/', 'link-local'],
    ['http://10.0.0.1/', 'private'],
    ['http://172.16.0.1/', 'private'],
    ['http://192.168.0.1/', 'private'],
    ['http://100.64.0.1/', 'carrier-grade NAT'],
    ['http://[fd00::1]/', 'unique-local'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://255.255.255.255/', 'broadcast'],
    ['http://192.0.2.1/', 'reserved'],
    ['http://198.18.0.1/', 'reserved'],
    ['http://240.0.0.1/', 'reserved'],
  ])('refuses %s (%s) without trying to connect', async (url, kind) => {
    const started = Date.now();
    const outcome = await get(client(), url);
    expect(outcome).toMatchObject({ code: 'forbidden_address', message: expect.stringContaining(kind) as unknown });
    // A connection attempt would have taken until the connect timeout (1 s) or failed as network.
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('answers an open and a closed port alike: same error, same message, no connection', async () => {
    const http = client();
    const closed = await closedPort();
    const outcomes: Outcome[] = [];
    const connections = await connectionsDuring(async () => {
      outcomes.push(await get(http, `http://127.0.0.1:${server.port}/metrics`));
      outcomes.push(await get(http, `http://127.0.0.1:${closed}/metrics`));
    });
    expect(connections).toBe(0);
    const [open, shut] = outcomes;
    expect(open).toEqual(shut);
    expect(open).toMatchObject({ code: 'forbidden_address' });
  });

  it.each([
    ['internal.test', ['127.0.0.1'], 'loopback'],
    ['INTERNAL.test.', ['127.0.0.1'], 'loopback'],
    ['v6.test', ['::1'], 'loopback'],
    ['mapped.test', ['::ffff:127.0.0.1'], 'loopback'],
    ['nat64.test', ['64:ff9b::7f00:1'], 'loopback'],
    ['metadata.test', ['169.254.169.254'], 'link-local'],
    ['zero.test', ['0.0.0.0'], 'unspecified'],
    ['mixed.test', ['93.184.215.14', '127.0.0.1'], 'loopback'], // every address counts, not just the first
  ])('refuses the host name %s that resolves to %j, at connect time, without connecting', async (name, addresses, kind) => {
    const { resolve, asked } = resolver({ [name.toLowerCase().replace(/\.$/, '')]: addresses });
    const http = client({ resolve });
    let outcome: Outcome | undefined;
    expect(await connectionsDuring(async () => (outcome = await get(http, `http://${name}:${server.port}/metrics`)))).toBe(0);
    expect(outcome).toMatchObject({ code: 'forbidden_address', message: expect.stringMatching(new RegExp(`^refused to call ${name.replace(/\./g, '\\.')}: it resolves to .*${kind}`, 'i')) as unknown });
    expect(asked).toEqual([new URL(`http://${name}/`).hostname]); // once, as the URL spells it (lower case)
  });

  it('checks every new connection again: a name that rebinds from an admitted address to another loopback address is refused', async () => {
    // 127.0.0.1 stands in for the public address a rebinding name first gives (the allowlist
    // admits it, so the first connection really happens); then the name answers 127.0.0.2.
    const answers = [['127.0.0.1'], ['127.0.0.2']];
    const { resolve, asked } = resolver({ 'rebind.test': () => answers.shift() ?? ['127.0.0.2'] });
    const http = client({ resolve, allowedHosts: ['127.0.0.1'] });
    const url = `http://rebind.test:${server.port}/once`; // the server closes each connection: the next request needs a new one
    expect(await connectionsDuring(async () => expect(await get(http, url)).toEqual({ status: 200, body: 'ok' }))).toBe(1);
    expect(await connectionsDuring(async () => expect(await get(http, url)).toMatchObject({ code: 'forbidden_address', message: expect.stringContaining('resolves to a loopback address') as unknown }))).toBe(0);
    expect(asked).toEqual(['rebind.test', 'rebind.test']);
  });

  it('checks the answer it connects with: a check the caller made earlier (public then) does not count', async () => {
    // A time-of-check/time-of-use client would ask once to check and once to connect; the answer changes in between.
    const answers = [['93.184.215.14'], ['127.0.0.1']];
    const { resolve, asked } = resolver({ 'toctou.test': () => answers.shift() ?? ['127.0.0.1'] });
    expect(await resolve('toctou.test')).toEqual([{ address: '93.184.215.14', family: 4 }]); // the caller's own check: public
    let outcome: Outcome | undefined;
    expect(await connectionsDuring(async () => (outcome = await get(client({ resolve }), `http://toctou.test:${server.port}/metrics`)))).toBe(0);
    expect(outcome).toMatchObject({ code: 'forbidden_address' });
    expect(asked).toEqual(['toctou.test', 'toctou.test']);
  });

  it('lets the allowlist admit exactly the address it names (in any spelling), and nothing next to it', async () => {
    const http = client({ allowedHosts: ['127.0.0.1'], resolve: resolver({ 'svc.test': ['127.0.0.1'] }).resolve });
    expect(await connectionsDuring(async () => expect(await get(http, `http://127.0.0.1:${server.port}/metrics`)).toEqual({ status: 200, body: 'secret_metric 1' }))).toBe(1);
    expect(await get(http, `http://0x7f.1:${server.port}/metrics`)).toMatchObject({ status: 200 }); // the same address
    expect(await get(http, `http://svc.test:${server.port}/metrics`)).toMatchObject({ status: 200 }); // a name resolving into the list
    let refused: Outcome[] = [];
    const connections = await connectionsDuring(async () => {
      refused = await Promise.all(['127.0.0.2', '[::1]', 'localhost', '169.254.169.254'].map((host) => get(http, `http://${host}:${server.port}/metrics`)));
    });
    expect(connections).toBe(0);
    expect(refused.map((outcome) => (outcome as { code: string }).code)).toEqual(['forbidden_address', 'forbidden_address', 'forbidden_address', 'forbidden_address']);
  });

  it('lets a CIDR admit the addresses inside it only', async () => {
    const http = client({ allowedHosts: ['127.0.0.0/31'] });
    expect(await get(http, `http://127.0.0.1:${server.port}/metrics`)).toMatchObject({ status: 200 });
    expect(await connectionsDuring(async () => expect(await get(http, `http://127.0.0.2:${server.port}/metrics`)).toMatchObject({ code: 'forbidden_address' }))).toBe(0);
  });

  it('lets a listed host name through whatever it resolves to; other names, subdomains and the bare address stay refused', async () => {
    const { resolve } = resolver({ 'svc.internal': ['127.0.0.1'], 'x.svc.internal': ['127.0.0.1'], 'other.internal': ['127.0.0.1'] });
    const http = client({ allowedHosts: ['svc.internal'], resolve });
    expect(await get(http, `http://svc.internal:${server.port}/metrics`)).toMatchObject({ status: 200 });
    expect(await get(http, `http://SVC.Internal.:${server.port}/metrics`)).toMatchObject({ status: 200 });
    const connections = await connectionsDuring(async () => {
      for (const host of ['x.svc.internal', 'other.internal', '127.0.0.1', 'localhost']) expect([host, await get(http, `http://${host}:${server.port}/metrics`)]).toMatchObject([host, { code: 'forbidden_address' }]);
    });
    expect(connections).toBe(0);
  });

  it('follows no redirect: a 3xx is the answer, and its Location is never requested', async () => {
    expect(HTTP_MAX_REDIRECTS).toBe(0);
    const http = client({ allowedHosts: ['127.0.0.1'] });
    const requestsBefore = server.requests.length;
    expect(await get(http, `http://127.0.0.1:${server.port}/redirect`)).toMatchObject({ status: 302 });
    expect(server.requests.slice(requestsBefore).map((request) => request.url)).toEqual(['/redirect']);
  });

  it('refuses a malformed allowlist entry when the client is built', () => {
    expect(() => createHttpClient({ connectTimeoutMs: 1_000, maxResponseBytes: 1_024, allowedHosts: ['*.internal'] })).toThrow(/not a host name, IP address or CIDR: "\*\.internal"/);
  });
});
