import type { RunningApp } from '@ussd/platform-http';
import type { TestDatabase } from '@ussd/platform-testing';
import { fileURLToPath } from 'node:url';
import { migrateDatabase } from '@ussd/platform-database';
import { type AppProcess, createTestDatabase, silentLogger, spawnApp } from '@ussd/platform-testing';
import type { OpenAPIObject } from '@nestjs/swagger';
import { startApi } from './route-table.test-helpers.js';

const CONSOLE = 'https://console.example.com';
const STRANGER = 'https://evil.example.net';

describe('HTTP hygiene: security headers and CORS from config', () => {
  let running: RunningApp;
  let database: TestDatabase;

  beforeAll(async () => {
    ({ running, database } = await startApi({ env: { CORS_ORIGINS: `${CONSOLE},http://localhost:5173` } }));
  });
  afterAll(async () => {
    await running?.app.close();
    await database?.drop();
  });

  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${running.url}${path}`, { headers });

  describe('security headers (helmet)', () => {
    it.each(['/health/live', '/workflows', '/no-such-route'])('are on every response: %s', async (path) => {
      const response = await get(path);
      const csp = response.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).toContain("object-src 'none'");
      expect(csp).not.toContain('unsafe-eval');
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
      expect(response.headers.get('x-powered-by')).toBeNull();
    });
  });

  describe('CORS for the configured origins only (CORS_ORIGINS)', () => {
    it('answers an allowed origin with its own origin, and tells caches the answer depends on it', async () => {
      const response = await get('/health/live', { origin: CONSOLE });
      expect(response.headers.get('access-control-allow-origin')).toBe(CONSOLE);
      expect(response.headers.get('access-control-allow-credentials')).toBeNull();
      expect(response.headers.get('vary')).toMatch(/origin/i);
    });

    it('lets a browser on an allowed origin read a refusal (401) and its headers', async () => {
      const response = await get('/workflows', { origin: CONSOLE });
      expect(response.status).toBe(401);
      expect(response.headers.get('access-control-allow-origin')).toBe(CONSOLE);
      expect(response.headers.get('access-control-expose-headers')).toContain('www-authenticate');
    });

    it.each([STRANGER, 'https://console.example.com.evil.example.net', 'http://console.example.com', 'null'])('gives another origin no CORS headers: %s', async (origin) => {
      const response = await get('/health/live', { origin });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });

    it('answers a preflight from an allowed origin with the methods and headers the api takes', async () => {
      const response = await fetch(`${running.url}/workflows`, {
        method: 'OPTIONS',
        headers: { origin: CONSOLE, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
      });
      expect(response.status).toBe(204);
      expect(response.headers.get('access-control-allow-origin')).toBe(CONSOLE);
      expect(response.headers.get('access-control-allow-methods')).toContain('POST');
      expect(response.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(response.headers.get('access-control-max-age')).toBe('600');
    });

    it('gives a preflight from another origin nothing a browser would accept', async () => {
      const response = await fetch(`${running.url}/workflows`, {
        method: 'OPTIONS',
        headers: { origin: STRANGER, 'access-control-request-method': 'DELETE', 'access-control-request-headers': 'authorization' },
      });
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    });
  });
});

describe('CORS off (no CORS_ORIGINS, the default)', () => {
  let running: RunningApp;
  let database: TestDatabase;

  beforeAll(async () => {
    ({ running, database } = await startApi());
  });
  afterAll(async () => {
    await running?.app.close();
    await database?.drop();
  });

  it('gives no origin CORS headers, on requests and preflights alike', async () => {
    const simple = await fetch(`${running.url}/health/live`, { headers: { origin: CONSOLE } });
    expect(simple.status).toBe(200);
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${running.url}/workflows`, { method: 'OPTIONS', headers: { origin: CONSOLE, 'access-control-request-method': 'POST' } });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.headers.get('access-control-allow-methods')).toBeNull();
  });
});

/** The built entry point (the test target depends on the build): /docs is served as `npm start` serves it. */
describe('the built api: the OpenAPI UI at /docs under the Content-Security-Policy, and the document’s security declarations', () => {
  const entry = fileURLToPath(new URL('../dist/main.js', import.meta.url));
  let app: AppProcess;
  let database: TestDatabase;
  let url: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    await migrateDatabase(database.url, silentLogger());
    app = await spawnApp(entry, { DATABASE_URL: database.url });
    url = await app.listening;
  }, 60_000);
  afterAll(async () => {
    await app?.cleanup();
    await database?.drop();
  });

  it('is served under the same headers', async () => {
    const response = await fetch(`${url}/docs`);
    expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(response.headers.get('x-frame-options')).toBe('DENY');
  });

  it('lets the OpenAPI UI at /docs work: every script and stylesheet it loads is served from here, and none is inline', async () => {
    const page = await fetch(`${url}/docs`);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, expect.stringMatching(/^text\/html/)]);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThanOrEqual(3);
    const assets: string[] = [];
    for (const [, attributes, body] of scripts) {
      // An inline script would be refused by script-src 'self'.
      expect(body?.trim()).toBe('');
      const src = /src=["']([^"']+)["']/.exec(attributes ?? '')?.[1];
      expect(src).toBeDefined();
      assets.push(src ?? '');
    }
    for (const [, href] of html.matchAll(/<link\b[^>]*href=["']([^"']+)["']/g)) assets.push(href ?? '');
    expect(assets.some((a) => a.endsWith('swagger-ui-init.js'))).toBe(true);
    for (const asset of assets) {
      const where = new URL(asset, `${url}/docs`); // resolved against the page, as the browser does
      expect([asset, where.origin]).toEqual([asset, url]);
      const response = await fetch(where);
      expect([asset, response.status]).toEqual([asset, 200]);
      expect([asset, response.headers.get('content-type')]).toEqual([asset, expect.stringMatching(asset.endsWith('.css') ? /^text\/css/ : /javascript|image\/png/)]);
      await response.arrayBuffer();
    }
    const init = await (await fetch(`${url}/docs/swagger-ui-init.js`)).text();
    expect(init).toContain('"validatorUrl": null');
    expect((await fetch(`${url}/docs/openapi.json`)).status).toBe(200);
  });

  it('the served document declares both bearer schemes, and every operation its requirement: a key or a token, or explicitly none when public', async () => {
    const document = (await (await fetch(`${url}/docs/openapi.json`)).json()) as OpenAPIObject;
    expect(document.components?.securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      jwt: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    });
    const operations = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([method]) => ['get', 'put', 'post', 'delete', 'patch', 'options', 'head'].includes(method))
        .map(([method, operation]) => ({ label: `${method.toUpperCase()} ${path}`, operation: operation as Record<string, unknown> })),
    );
    expect(operations.length).toBeGreaterThanOrEqual(29);
    const publicOnes: string[] = [];
    for (const { label, operation } of operations) {
      if ('x-public' in operation) {
        publicOnes.push(label);
        expect([label, operation['security']]).toEqual([label, []]);
        expect([label, operation['x-required-role']]).toEqual([label, undefined]);
      } else {
        expect([label, operation['security']]).toEqual([label, [{ apiKey: [] }, { jwt: [] }]]);
        expect([label, typeof operation['x-required-role']]).toEqual([label, 'string']);
        expect([label, Object.keys(operation['responses'] as object)]).toEqual([label, expect.arrayContaining(['401', '403'])]);
      }
    }
    expect(publicOnes.sort()).toEqual(['GET /', 'GET /health/live', 'GET /health/ready', 'GET /health/startup', 'GET /metrics', 'POST /ussd/{gateway}', 'POST /ussd/{gateway}/{token}']);
  });
});
