import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { API_KEY_SCHEME, JWT_SCHEME } from '@ussd/platform-auth';

/** The OpenAPI document, generated from the controllers and their zod schemas. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('ussd-flow api')
    .setDescription('Workflows for USSD and other conversational channels. Errors are application/problem+json (RFC 9457).')
    .setVersion('0.1.0')
    .addTag('workflows', 'Versioned workflow specs: drafts, publish, roll back, diff')
    .addTag('executions', 'Every execution and every node attempt')
    // Operations that need a key say so (RequireRole); public ones (probes, gateways) do not.
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key, usk_… (docs/security.md): `npm run cli -- keys create`' }, API_KEY_SCHEME)
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: "A JWT from the organisation's identity provider, when the deployment sets AUTH_JWT_JWKS_URL (docs/security.md); team and role come from its claims" },
      JWT_SCHEME,
    )
    .build();
  const document = SwaggerModule.createDocument(app, config);
  // Public operations (probes, gateway callbacks) say so explicitly: no security requirement at all.
  for (const item of Object.values(document.paths)) {
    for (const operation of Object.values(item)) {
      if (typeof operation === 'object' && operation !== null && 'x-public' in operation) (operation as { security?: unknown[] }).security = [];
    }
  }
  return document;
}

/** Serves the document at /docs (UI) and /docs/openapi.json. */
export function serveOpenApi(app: INestApplication): void {
  SwaggerModule.setup('docs', app, () => buildOpenApiDocument(app), {
    jsonDocumentUrl: 'docs/openapi.json',
    yamlDocumentUrl: 'docs/openapi.yaml',
    // No badge fetched from validator.swagger.io: the page loads nothing from elsewhere (the CSP would refuse it).
    swaggerOptions: { validatorUrl: null },
  });
}
