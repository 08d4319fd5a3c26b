import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import type { Identity, Role } from './identity.js';

export const ACCESS_METADATA = 'ussd:access';

/** How a route is reached: by anyone (it authenticates its callers its own way, or needs nothing), or with a role. */
export type Access = { readonly public: true; readonly why: string } | { readonly public: false; readonly role: Role };

/**
 * Reachable without an identity. Say why: probes must answer the orchestrator, gateways
 * authenticate themselves by their own rules. Everything else is denied by default.
 */
export const Public = (why: string): MethodDecorator & ClassDecorator => SetMetadata(ACCESS_METADATA, { public: true, why } satisfies Access);

/** Reachable with an identity whose role is at least `role`. */
export const RequireRole = (role: Role): MethodDecorator & ClassDecorator => SetMetadata(ACCESS_METADATA, { public: false, role } satisfies Access);

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
