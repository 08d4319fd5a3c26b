import { type CanActivate, type ExecutionContext, HttpException, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ACCESS_METADATA, type Access, type AuthenticatedRequest } from './access.decorators.js';
import { ApiKeys } from './api-keys.js';
import { roleAtLeast } from './identity.js';

export const AuthProblem = {
  unauthenticated: 'urn:problem:auth:unauthenticated',
  forbidden: 'urn:problem:auth:forbidden',
} as const;

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
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const access = this.reflector.getAllAndOverride<Access | undefined>(ACCESS_METADATA, [context.getHandler(), context.getClass()]);
    if (access?.public === true) return true;

    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest & AuthenticatedRequest>();
    const header = request.headers.authorization;
    const token = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    const identity = token === undefined ? undefined : await this.keys.verify(token);
    if (identity === undefined) {
      void http.getResponse<FastifyReply>().header('www-authenticate', 'Bearer realm="ussd-flow"');
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
          detail: access === undefined ? 'This route declares no access rule, so nobody may use it.' : `This needs the ${access.role} role; the key has ${identity.role}.`,
        },
        403,
      );
    }
    request.identity = identity;
    return true;
  }
}
