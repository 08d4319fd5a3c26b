import { type Agent, request as httpRequest } from 'node:http';

export interface UploadResult {
  /** The response status, or 0 when none arrived. */
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
  /** The client-side error code (EPIPE, ECONNRESET...), when sending or reading failed. */
  readonly clientError?: string;
  /** Whether the request went over a connection an earlier request had used (keep-alive). */
  readonly reusedSocket: boolean;
}

export interface UploadOptions {
  readonly method?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Body size in bytes, sent in `chunkBytes` pieces as fast as the socket takes them. */
  readonly bytes: number;
  /** Without a Content-Length header (Transfer-Encoding: chunked). */
  readonly chunked?: boolean;
  readonly chunkBytes?: number;
  /** A keep-alive agent; by default a fresh connection that asks to be closed. */
  readonly agent?: Agent;
  /** The byte the body is made of (default `a`, inside a JSON string). */
  readonly fill?: string;
}

/**
 * Sends a large body over a real socket, the way a client does (not `inject`): every chunk is
 * written with back-pressure, the response is read to its end, and a reset or broken pipe on the
 * client side is reported rather than thrown, so a test can count them.
 */
export function uploadBody(url: string, options: UploadOptions): Promise<UploadResult> {
  const chunkBytes = options.chunkBytes ?? 64 * 1024;
  return new Promise<UploadResult>((resolve) => {
    let clientError: string | undefined;
    let status = 0;
    let headers: UploadResult['headers'] = {};
    const parts: Buffer[] = [];
    let sent = false;
    let received = false;
    let settled = false;
    const settle = (): void => {
      if (settled || !(received || clientError !== undefined) || !(sent || clientError !== undefined)) return;
      settled = true;
      resolve({ status, headers, body: Buffer.concat(parts).toString('utf8'), reusedSocket: request.reusedSocket, ...(clientError === undefined ? {} : { clientError }) });
    };
    const fail = (error: Error): void => {
      clientError ??= (error as NodeJS.ErrnoException).code ?? error.message;
      settle();
    };
    const request = httpRequest(url, {
      method: options.method ?? 'POST',
      headers: { 'content-type': 'application/json', ...options.headers, ...(options.chunked ? {} : { 'content-length': String(options.bytes) }) },
      agent: options.agent ?? false,
    });
    request.on('error', fail);
    request.on('response', (response) => {
      status = response.statusCode ?? 0;
      headers = response.headers;
      response.on('data', (chunk: Buffer) => parts.push(chunk));
      response.on('error', fail);
      response.on('end', () => {
        received = true;
        settle();
      });
    });
    const chunk = Buffer.alloc(chunkBytes, options.fill ?? 'a');
    let left = options.bytes;
    const writeMore = (): void => {
      while (left > 0 && clientError === undefined) {
        const size = Math.min(left, chunkBytes);
        left -= size;
        if (!request.write(size === chunkBytes ? chunk : chunk.subarray(0, size))) {
          request.once('drain', writeMore);
          return;
        }
      }
      if (clientError !== undefined) return;
      request.end(() => {
        sent = true;
        settle();
      });
    };
    writeMore();
  });
}
