import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { PlatformConfig } from '@ussd/platform-config';

/** Request headers a browser client may send across origins, and response headers it may read. */
const CORS_REQUEST_HEADERS = ['authorization', 'content-type', 'if-match', 'x-request-id'];
const CORS_EXPOSED_HEADERS = ['etag', 'location', 'retry-after', 'www-authenticate', 'x-request-id'];

/** Helmet's options: every value is fixed (no CSP nonces), so the headers are the same on every response. */
const HELMET_OPTIONS: HelmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      baseUri: ["'self'"],
      connectSrc: ["'self'"],
      fontSrc: ["'self'", 'data:'],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      imgSrc: ["'self'", 'data:'],
      objectSrc: ["'none'"],
      scriptSrc: ["'self'"],
      scriptSrcAttr: ["'none'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
    },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
};

/**
 * The headers helmet sets with HELMET_OPTIONS, computed once by running helmet itself against a
 * recording response. `@fastify/helmet` runs helmet on every request (it rebuilds the middleware
 * each time: 3.8% of the api's CPU in a profile of the USSD hop benchmark); the headers do not change, so they
 * are set from this record instead.
 */
export function securityHeaders(): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader: (name: string) => {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(HELMET_OPTIONS)(undefined as unknown as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    failure = error;
  });
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(String(failure));
  return headers;
}

/**
 * HTTP hygiene for every app (docs/security.md "Headers, CORS and dependency audit"):
 *
 * - `helmet`'s headers on every response: a Content-Security-Policy that lets the OpenAPI UI at
 *   /docs run (its scripts and styles are served by the app itself; it sets inline styles and
 *   data: images) and nothing else, no framing, nosniff, no referrer, HSTS, and the
 *   Cross-Origin-Opener-Policy and Cross-Origin-Resource-Policy headers. `upgrade-insecure-requests` is left out so the UI still
 *   works on a plain-HTTP development port.
 * - CORS only for the exact origins of CORS_ORIGINS (`@fastify/cors`, through Nest). With none
 *   configured, nobody gets CORS headers and browsers keep other sites' scripts out.
 */
export function applySecurityHeaders(app: NestFastifyApplication, config: PlatformConfig): void {
  const headers = securityHeaders();
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (_request, reply, done) => {
      void reply.headers(headers);
      done();
    });
  if (config.cors.origins.length > 0) {
    app.enableCors({
      origin: [...config.cors.origins],
      methods: ['GET', 'HEAD', 'POST', 'PATCH', 'PUT', 'DELETE'],
      allowedHeaders: CORS_REQUEST_HEADERS,
      exposedHeaders: CORS_EXPOSED_HEADERS,
      // Keys and tokens travel in the Authorization header, never in cookies.
      credentials: false,
      maxAge: 600,
    });
  }
}
