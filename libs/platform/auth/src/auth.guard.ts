import { type CanActivate, type ExecutionContext, HttpException, Inject, Injectable, Optional } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ACCESS_METADATA, type Access, type AuthenticatedRequest } from './access.decorators.js';
import { ApiKeys } from './api-keys.js';
import { type Identity, roleAtLeast } from './identity.js';
import { IdentityProviderUnavailable, JwtRefused, type JwtTokens, looksLikeJwt } from './jwt-tokens.js';

/** The JWT verifier when AUTH_JWT_JWKS_URL is set, null when JWTs are off. */
export const JWT_TOKENS = Symbol('JWT_TOKENS');

/**
 * What else an identified request must pass once its identity and role are checked: the per-key
 * rate limits (platform-http's `KeyRateLimits`), provided globally by whoever has them. Run inside
 * the guard rather than as an interceptor, so routes pay nothing for an interceptor chain.
 */
export const IDENTITY_ADMISSION = Symbol('IDENTITY_ADMISSION');
export interface IdentityAdmission {
  /** Throws (a 429 problem) to refuse the request. */
  admit(identity: Identity, context: ExecutionContext): Promise<void>;
}

export const AuthProblem = {
  unauthenticated: 'urn:problem:auth:unauthenticated',
  forbidden: 'urn:problem:auth:forbidden',
  identityProviderUnavailable: 'urn:problem:auth:identity-provider-unavailable',
} as const;

const WWW_AUTHENTICATE = 'Bearer realm="ussd-flow"';

const BEARER = /^Bearer ([\x21-\x7e]{1,4096})$/;

/**
 * Default deny: every route needs an identity with at least the role it declares
 * (`@RequireRole`), unless it is declared `@Public(why)`. A route that declares neither is
 * refused for everyone, so a new route cannot be left open by forgetting.
 */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(ApiKeys) private readonly keys: ApiKeys,
    @Inject(JWT_TOKENS) private readonly jwt: JwtTokens | null,
    @Optional() @Inject(IDENTITY_ADMISSION) private readonly admission?: IdentityAdmission,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS_METADATA, [context.getHandler(), context.getClass()]);
    if (access?.public === true) return true;

    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & AuthenticatedRequest>();
    const header = request.headers.authorization;
    const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    const reply = http.getResponse<FastifyReply>();
    const identity = token === undefined ? undefined : await this.identify(token, reply);
    if (identity === undefined) {
      void reply.header('www-authenticate', WWW_AUTHENTICATE);
      throw new HttpException(
        {
          type: AuthProblem.unauthenticated,
          title: 'Authentication required',
          detail:
            header === undefined
              ? 'Send an API key as "Authorization: Bearer <key>" (create one with `npm run cli -- keys create`).'
              : 'The key is unknown, revoked or expired, or the Authorization header is not "Bearer <key>".',
        },
        401,
      );
    }
    if (access === undefined || !roleAtLeast(identity.role, access.role)) {
      throw new HttpException(
        {
          type: AuthProblem.forbidden,
          title: 'Forbidden',
          detail: access === undefined ? 'This route declares no access rule, so nobody may use it.' : `This needs the ${access.role} role; the ${identity.kind === 'jwt' ? 'token' : 'key'} has ${identity.role}.`,
        },
        403,
      );
    }
    request.identity = identity;
    if (this.admission !== undefined) await this.admission.admit(identity, context);
    return true;
  }

  /**
   * An API key (`usk_…`, never parsed as a JWT), or, when JWTs are on, a value shaped like a JWT.
   * A refused JWT is a 401 saying what is wrong with it; an unreachable identity provider a 503.
   */
  private async identify(token: string, reply: FastifyReply): Promise<Identity | undefined> {
    if (this.jwt === null || token.startsWith('usk_') || !looksLikeJwt(token)) return this.keys.verify(token);
    try {
      return await this.jwt.verify(token);
    } catch (error) {
      if (error instanceof JwtRefused) {
        void reply.header('www-authenticate', `${WWW_AUTHENTICATE}, error="invalid_token"`);
        throw new HttpException({ type: AuthProblem.unauthenticated, title: 'Authentication required', detail: error.message }, 401);
      }
      if (error instanceof IdentityProviderUnavailable) {
        void reply.header('retry-after', '5');
        throw new HttpException(
          {
            type: AuthProblem.identityProviderUnavailable,
            title: 'Identity provider unavailable',
            detail: 'The identity provider’s signing keys could not be fetched, so the token cannot be checked; try again shortly (API keys still work).',
          },
          503,
        );
      }
      throw error;
    }
  }
}
