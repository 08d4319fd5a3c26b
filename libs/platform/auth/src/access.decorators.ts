import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Identity, Role } from './identity.js';

export const ACCESS_METADATA = 'ussd:access';
/** The OpenAPI security schemes a non-public operation accepts, either one (apps/api/src/openapi.ts declares them). */
export const API_KEY_SCHEME = 'apiKey';
export const JWT_SCHEME = 'jwt';

/** How a route is reached: by anyone (it authenticates its callers its own way, or needs nothing), or with a role. */
export type Access = { readonly public: true; readonly why: string } | { readonly public: false; readonly role: Role };

/**
 * Reachable without an identity. Say why: probes must answer the orchestrator, gateways
 * authenticate themselves by their own rules. Everything else is denied by default.
 */
export const Public = (why: string): MethodDecorator & ClassDecorator =>
  applyDecorators(SetMetadata(ACCESS_METADATA, { public: true, why } satisfies Access), ApiExtension('x-public', why));

/** Reachable with an identity whose role is at least `role`. */
export const RequireRole = (role: Role): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(ACCESS_METADATA, { public: false, role } satisfies Access),
    // The OpenAPI document says the same: the scheme, the role, and the two refusals.
    // Two requirements: an API key or a JWT, either one.
    ApiBearerAuth(API_KEY_SCHEME),
    ApiBearerAuth(JWT_SCHEME),
    ApiExtension('x-required-role', role),
    ApiUnauthorizedResponse({ description: 'No key or token, or an unknown, revoked or expired key, or a refused token (application/problem+json)' }),
    ApiForbiddenResponse({ description: `The key's or token's role is below ${role} (application/problem+json)` }),
  );

/** The request's identity, put there by the AuthGuard. */
export interface AuthenticatedRequest {
  identity?: Identity;
}

/** The caller's identity; only on routes that require a role (the guard has set it). */
export const CurrentIdentity = createParamDecorator((_data: unknown, context: ExecutionContext): Identity => {
  const identity = context.switchToHttp().getRequest<AuthenticatedRequest>().identity;
  if (identity === undefined) throw new Error('CurrentIdentity on a route without RequireRole: the guard set no identity');
  return identity;
});
