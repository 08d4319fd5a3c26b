import helmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { PlatformConfig } from '@ussd/platform-config';

/** Request headers a browser client may send across origins, and response headers it may read. */
const CORS_REQUEST_HEADERS = ['authorization', 'content-type', 'if-match', 'x-request-id'];
const CORS_EXPOSED_HEADERS = ['etag', 'location', 'retry-after', 'www-authenticate', 'x-request-id'];

/**
 * HTTP hygiene for every app (docs/security.md "Headers, CORS and dependency audit"):
 *
 * - `@fastify/helmet` on every response: a Content-Security-Policy that lets the OpenAPI UI at
 *   /docs run (its scripts and styles are served by the app itself; it sets inline styles and
 *   data: images) and nothing else, no framing, nosniff, no referrer, HSTS, and the
 *   Cross-Origin-Opener-Policy and Cross-Origin-Resource-Policy headers. `upgrade-insecure-requests` is left out so the UI still
 *   works on a plain-HTTP development port.
 * - CORS only for the exact origins of CORS_ORIGINS (`@fastify/cors`, through Nest). With none
 *   configured, nobody gets CORS headers and browsers keep other sites' scripts out.
 */
export async function applySecurityHeaders(app: NestFastifyApplication, config: PlatformConfig): Promise<void> {
  await app.register(helmet, {
    global: true,
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
