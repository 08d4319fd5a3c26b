import { applyDecorators, createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import type { Identity, Role } from './identity.js';

export const ACCESS_METADATA = 'ussd:access';
/** The OpenAPI security scheme every non-public operation requires (apps/api/src/openapi.ts declares it). */
export const API_KEY_SCHEME = 'apiKey';

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
    ApiBearerAuth(API_KEY_SCHEME),
    ApiExtension('x-required-role', role),
    ApiUnauthorizedResponse({ description: 'No key, or an unknown, revoked or expired one (application/problem+json)' }),
    ApiForbiddenResponse({ description: `The key's role is below ${role} (application/problem+json)` }),
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
