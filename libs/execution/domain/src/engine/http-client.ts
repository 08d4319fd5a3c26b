import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction, Socket } from 'node:net';
import { type Duplex, pipeline, type Readable } from 'node:stream';
import zlib from 'node:zlib';
import { OutboundAddressPolicy, type OutboundRefusal } from './outbound-address.js';

export interface HttpRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Bound on the whole exchange, connection to last body byte. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  /** Lower-case names; repeated headers joined with ', '. */
  readonly headers: Readonly<Record<string, string>>;
  /** Decoded as UTF-8 (after gzip/deflate/br decoding). */
  readonly body: string;
}

/** What `http.request` needs from a client; tests and other transports can provide their own. */
export interface HttpClient {
  /** Throws `HttpClientError`; any status, 2xx or not, is a response. */
  request(request: HttpRequest): Promise<HttpResponse>;
}

/** `forbidden_address`: the host is, or resolves to, an address the client does not call (outbound-address.ts). */
export type HttpClientErrorCode = 'invalid_request' | 'network' | 'timeout' | 'too_large' | 'aborted' | 'forbidden_address';

export class HttpClientError extends Error {
  override readonly name = 'HttpClientError';
  constructor(
    readonly code: HttpClientErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface ResolvedAddress {
  readonly address: string;
  /** 4 or 6. */
  readonly family: number;
}

/** Turns a host name into every address it has, as `dns.lookup(name, { all: true })` does. */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface HttpClientOptions {
  /** Bound on TCP (and TLS) connection set-up; past it the request fails as `network`. */
  readonly connectTimeoutMs: number;
  /** Bound on the decoded body; past it the request is aborted as `too_large`. */
  readonly maxResponseBytes: number;
  /**
   * Host names, IP addresses and CIDRs called although they are not public addresses
   * (HTTP_ALLOWED_HOSTS). Default: none, so loopback, private, link-local and every other
   * non-public address is refused (`forbidden_address`).
   */
  readonly allowedHosts?: readonly string[];
  /**
   * How host names become addresses when a connection is opened; every address it returns is
   * checked, and the connection uses only those. Default: the system resolver (`dns.lookup`).
   * Tests inject one to play DNS tricks (a name that resolves to 127.0.0.1, a rebinding answer).
   */
  readonly resolve?: HostResolver;
}

/**
 * Redirects followed: none, and deliberately so. A 3xx is a status like any other (the node
 * fails with `http.status.3xx`), so a public server cannot bounce a workflow to an internal
 * address; following them would need the address check on every hop.
 */
export const HTTP_MAX_REDIRECTS = 0;

export interface ClosableHttpClient extends HttpClient {
  /** Closes idle keep-alive sockets (tests, shutdown). */
  close(): void;
}

/**
 * An HTTP client on node:http/https with keep-alive. Built on node:http rather than fetch
 * because fetch cannot bound the connect phase separately without undici's own Agent (not a
 * dependency of this library). Redirects are not followed (`HTTP_MAX_REDIRECTS`): a 3xx is a
 * status like any other, so a workflow cannot be bounced to an address its author never wrote.
 *
 * Only public addresses are called (outbound-address.ts), checked where the connection is made:
 * an IP literal before any socket exists, a host name inside the agent's `lookup`, on every
 * address the resolver returns, for every new connection. So a DNS answer that changes between
 * two requests (rebinding) is checked again, and nothing is ever sent to a refused address, open
 * port or not. @throws InvalidAllowlistEntryError for a malformed `allowedHosts` entry.
 */
export function createHttpClient(options: HttpClientOptions): ClosableHttpClient {
  const policy = new OutboundAddressPolicy(options.allowedHosts ?? []);
  const lookup = guardedLookup(policy, options.resolve ?? systemResolver);
  const agents = { 'http:': new GuardedHttpAgent(policy, lookup), 'https:': new GuardedHttpsAgent(policy, lookup) };
  return {
    request: (request) => send(request, options, policy, agents),
    close: () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

/** The name the issue proposed; the client is `createHttpClient` (see its comment for why not fetch). */
export const createFetchHttpClient = createHttpClient;

/** Raised inside the agent (lookup or createConnection); `send` turns it into `forbidden_address`. */
class RefusedAddressError extends Error {
  override readonly name = 'RefusedAddressError';
  readonly code = 'ERR_FORBIDDEN_ADDRESS';
  constructor(readonly refusal: OutboundRefusal) {
    super(refusal.message);
  }
}

const systemResolver: HostResolver = async (hostname) => (await dns.promises.lookup(hostname, { all: true })).map(({ address, family }) => ({ address, family }));

/** A `lookup` for net.connect: resolves once, refuses the connection if any address is refused, else hands over the addresses. */
function guardedLookup(policy: OutboundAddressPolicy, resolve: HostResolver): LookupFunction {
  return (hostname, options, callback) => {
    void resolve(hostname).then(
      (addresses) => {
        const refusal = policy.checkResolved(hostname, addresses.map((entry) => entry.address));
        if (refusal !== undefined) {
          callback(new RefusedAddressError(refusal), '', 0);
          return;
        }
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const usable = family === 4 || family === 6 ? addresses.filter((entry) => entry.family === family) : [...addresses];
        const first = usable[0];
        if (first === undefined) {
          callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND', hostname }), '', 0);
        } else if (options.all === true) {
          callback(null, usable.map(({ address, family: addressFamily }) => ({ address, family: addressFamily })));
        } else {
          callback(null, first.address, first.family);
        }
      },
      (error: unknown) => callback(error instanceof Error ? error : new Error(String(error)), '', 0),
    );
  };
}

/** Refuses IP literals before a socket exists and gives every new connection the guarded lookup. */
function guardedConnection<T>(policy: OutboundAddressPolicy, options: { host?: string | null | undefined }, callback: ((err: Error | null, stream: Duplex) => void) | undefined, connect: () => T): T | undefined {
  const refusal = policy.checkHost(options.host ?? '');
  if (refusal === undefined) return connect();
  process.nextTick(() => callback?.(new RefusedAddressError(refusal), undefined as unknown as Duplex));
  return undefined;
}

class GuardedHttpAgent extends http.Agent {
  constructor(
    private readonly guardPolicy: OutboundAddressPolicy,
    private readonly guardLookup: LookupFunction,
  ) {
    super({ keepAlive: true });
  }

  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return guardedConnection(this.guardPolicy, options, callback, () => super.createConnection({ ...options, lookup: this.guardLookup }, callback));
  }
}

class GuardedHttpsAgent extends https.Agent {
  constructor(
    private readonly guardPolicy: OutboundAddressPolicy,
    private readonly guardLookup: LookupFunction,
  ) {
    super({ keepAlive: true });
  }

  override createConnection(options: https.RequestOptions, callback?: (err: Error | null, stream: Duplex) => void): Duplex | null | undefined {
    return guardedConnection(this.guardPolicy, options, callback, () => super.createConnection({ ...options, lookup: this.guardLookup }, callback));
  }
}

function send(request: HttpRequest, options: HttpClientOptions, policy: OutboundAddressPolicy, agents: Record<'http:' | 'https:', http.Agent>): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      reject(new HttpClientError('invalid_request', `not a valid URL: ${request.url.slice(0, 200)}`));
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      reject(new HttpClientError('invalid_request', `only http and https URLs are allowed, got ${url.protocol}`));
      return;
    }
    // IP literals (in any spelling: WHATWG URL parsing has already made 0x7f.1 127.0.0.1) and
    // localhost names are refused here, before any socket; the agent checks again, and checks
    // what host names resolve to.
    const refusal = policy.checkHost(url.hostname);
    if (refusal !== undefined) {
      reject(new HttpClientError('forbidden_address', refusal.message));
      return;
    }
    if (request.signal?.aborted) {
      reject(new HttpClientError('aborted', 'request aborted'));
      return;
    }

    let settled = false;
    const timers: ReturnType<typeof setTimeout>[] = [];
    let req: http.ClientRequest | undefined;
    const finish = (error: HttpClientError | undefined, response?: HttpResponse) => {
      if (settled) return;
      settled = true;
      timers.forEach(clearTimeout);
      request.signal?.removeEventListener('abort', onAbort);
      if (error !== undefined) {
        req?.destroy();
        reject(error);
      } else if (response !== undefined) {
        resolve(response);
      }
    };
    const onAbort = () => finish(new HttpClientError('aborted', 'request aborted'));
    request.signal?.addEventListener('abort', onAbort, { once: true });
    timers.push(setTimeout(() => finish(new HttpClientError('timeout', `no complete response within ${request.timeoutMs} ms`)), request.timeoutMs));

    const headers: Record<string, string> = { ...request.headers };
    if (request.body !== undefined) headers['content-length'] = String(Buffer.byteLength(request.body));
    try {
      const module = url.protocol === 'https:' ? https : http;
      req = module.request(url, { method: request.method, headers, agent: agents[url.protocol] });
    } catch (error) {
      // node:http validates methods and header values synchronously (a newline in a header, say).
      finish(new HttpClientError('invalid_request', error instanceof Error ? error.message : 'invalid request'));
      return;
    }

    req.on('socket', (socket: Socket) => {
      // A reused keep-alive socket is already connected.
      if (!socket.connecting) return;
      const timer = setTimeout(
        () => finish(new HttpClientError('network', `could not connect to ${url.host} within ${options.connectTimeoutMs} ms`)),
        options.connectTimeoutMs,
      );
      timers.push(timer);
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(timer));
    });
    req.on('error', (error: Error) =>
      finish(error instanceof RefusedAddressError ? new HttpClientError('forbidden_address', error.message) : new HttpClientError('network', `${url.host}: ${error.message}`)),
    );
    req.on('response', (res) => {
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > options.maxResponseBytes && !isEncoded(res)) {
        res.resume();
        finish(tooLarge(options.maxResponseBytes));
        return;
      }
      readBody(res, options.maxResponseBytes).then(
        (body) => finish(undefined, { status: res.statusCode ?? 0, headers: flatten(res.headers), body }),
        (error: unknown) => finish(error instanceof HttpClientError ? error : new HttpClientError('network', `reading the response: ${String(error)}`)),
      );
    });
    req.end(request.body);
  });
}

const tooLarge = (max: number) => new HttpClientError('too_large', `response body larger than ${max} bytes`);

function isEncoded(res: http.IncomingMessage): boolean {
  const encoding = res.headers['content-encoding'];
  return encoding !== undefined && encoding !== 'identity';
}

/** Counts decoded bytes, so a small compressed body cannot expand past the cap. */
async function readBody(res: http.IncomingMessage, max: number): Promise<string> {
  const encoding = (res.headers['content-encoding'] ?? '').trim().toLowerCase();
  const decoder = encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip() : encoding === 'deflate' ? zlib.createInflate() : encoding === 'br' ? zlib.createBrotliDecompress() : undefined;
  // pipeline forwards a broken connection to the decoder, so the loop below sees the error.
  const stream: Readable = decoder === undefined ? res : pipeline(res, decoder, () => undefined);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of stream) {
      const buffer = chunk as Buffer;
      size += buffer.length;
      if (size > max) throw tooLarge(max);
      chunks.push(buffer);
    }
  } finally {
    if (stream !== res) res.destroy();
  }
  return Buffer.concat(chunks).toString('utf8');
}

function flatten(headers: http.IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}
