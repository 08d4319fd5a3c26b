import { NODE_ERROR_CODES, type HttpRequestNode, type JsonValue } from '@ussd/workflow-domain';
import { HttpClientError, type HttpResponse } from '../http-client.js';
import type { NodeHandler } from '../node-handler.js';
import { ENGINE_ERROR_CODES, NodeError } from '../node-error.js';

/** The spec's default attempt bound for this type. */
export const HTTP_REQUEST_DEFAULT_TIMEOUT_MS = 10_000;

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b|\+json\b/i;

/** The body parsed when the response says it is JSON (and is), else the text. */
function parseBody(response: HttpResponse): JsonValue {
  if (response.body !== '' && JSON_TYPE.test(response.headers['content-type'] ?? '')) {
    try {
      return JSON.parse(response.body) as JsonValue;
    } catch {
      // A server that labels text as JSON still gets its text through.
    }
  }
  return response.body;
}

function clientError(error: unknown, url: string): NodeError {
  if (error instanceof NodeError) return error;
  if (error instanceof HttpClientError) {
    switch (error.code) {
      case 'timeout':
        return new NodeError(NODE_ERROR_CODES.timeout, error.message);
      case 'too_large':
        return new NodeError(ENGINE_ERROR_CODES.httpResponseTooLarge, error.message);
      case 'invalid_request':
        return new NodeError(ENGINE_ERROR_CODES.httpInvalidRequest, error.message);
      case 'forbidden_address':
        return new NodeError(ENGINE_ERROR_CODES.httpForbiddenAddress, error.message);
      case 'network':
      case 'aborted':
        return new NodeError(NODE_ERROR_CODES.httpNetwork, error.message);
    }
  }
  return new NodeError(NODE_ERROR_CODES.httpNetwork, `request to ${url.slice(0, 200)} failed: ${String(error)}`);
}

export const httpRequestHandler: NodeHandler<HttpRequestNode> = {
  defaultTimeoutMs: HTTP_REQUEST_DEFAULT_TIMEOUT_MS,
  async run(node, context) {
    const url = await context.render(node.url);
    const headers: Record<string, string> = {};
    for (const [name, template] of Object.entries(node.headers ?? {})) headers[name] = await context.render(template);
    let body: string | undefined;
    if (node.body !== undefined) {
      body = JSON.stringify((await context.evaluate(node.body)) ?? null);
      if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
    let response: HttpResponse;
    try {
      response = await context.http.request({
        method: node.method,
        url,
        headers,
        ...(body === undefined ? {} : { body }),
        timeoutMs: node.timeoutMs ?? HTTP_REQUEST_DEFAULT_TIMEOUT_MS,
        signal: context.signal,
      });
    } catch (error) {
      throw clientError(error, url);
    }
    const output = { status: response.status, headers: { ...response.headers }, body: parseBody(response) };
    if (response.status < 200 || response.status > 299) {
      throw new NodeError(`${NODE_ERROR_CODES.httpStatus}${response.status}`, `${node.method} ${url.slice(0, 200)} answered ${response.status}`, {
        status: response.status,
        body: response.body.slice(0, 1000),
      });
    }
    return { type: 'continue', next: node.next, output };
  },
};
