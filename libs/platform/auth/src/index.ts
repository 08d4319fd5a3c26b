/**
 * @ussd/platform-auth: who is calling, and what they may do (docs/security.md).
 *
 * - `AuthModule.forRoot()`: the API key store and the global default-deny `AuthGuard`.
 * - `@Public(why)` / `@RequireRole(role)`: every route declares one; a route with neither is refused.
 * - `@CurrentIdentity()`: the caller (`Identity`: team and role); `actorOf` for `created_by`.
 * - `ApiKeys`: create, list, revoke and verify keys (also used by the operator CLI).
 * - `maskPhoneNumbersIn`, `masksPhoneNumbers`: phone numbers in responses to viewers.
 * - `JwtTokens`: JWT bearer tokens from the organisation's identity provider, when AUTH_JWT_JWKS_URL is set.
 * - `ServiceCodeGrants`: which USSD service codes each team may claim (`uncoveredCodes` for publishing).
 * - `AuditLog` / `recordAudit`: one row per change, in the change's transaction where it is a database write.
 */
export * from './access.decorators.js';
export * from './api-keys.js';
export * from './audit-log.js';
export * from './auth.guard.js';
export * from './auth.module.js';
export * from './identity.js';
export * from './jwt-tokens.js';
export * from './phone-masking.js';
export * from './service-code-grants.js';
