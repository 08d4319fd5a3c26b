import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import { pipeline, type Readable } from 'node:stream';
import zlib from 'node:zlib';

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

export type HttpClientErrorCode = 'invalid_request' | 'network' | 'timeout' | 'too_large' | 'aborted';

export class HttpClientError extends Error {
  override readonly name = 'HttpClientError';
  constructor(
    readonly code: HttpClientErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface HttpClientOptions {
  /** Bound on TCP (and TLS) connection set-up; past it the request fails as `network`. */
  readonly connectTimeoutMs: number;
  /** Bound on the decoded body; past it the request is aborted as `too_large`. */
  readonly maxResponseBytes: number;
}

export interface ClosableHttpClient extends HttpClient {
  /** Closes idle keep-alive sockets (tests, shutdown). */
  close(): void;
}

/**
 * An HTTP client on node:http/https with keep-alive. Built on node:http rather than fetch
 * because fetch cannot bound the connect phase separately without undici's own Agent (not a
 * dependency of this library). Redirects are not followed: a 3xx is a status like any other,
 * so a workflow cannot be bounced to an address its author never wrote.
 */
export function createHttpClient(options: HttpClientOptions): ClosableHttpClient {
  const agents = { 'http:': new http.Agent({ keepAlive: true }), 'https:': new https.Agent({ keepAlive: true }) };
  return {
    request: (request) => send(request, options, agents),
    close: () => {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}

/** The name the issue proposed; the client is `createHttpClient` (see its comment for why not fetch). */
export const createFetchHttpClient = createHttpClient;

function send(request: HttpRequest, options: HttpClientOptions, agents: Record<'http:' | 'https:', http.Agent>): Promise<HttpResponse> {
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
    req.on('error', (error: Error) => finish(new HttpClientError('network', `${url.host}: ${error.message}`)));
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
