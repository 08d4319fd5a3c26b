import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { IdentityRequiredException } from './workflow.exception.js';

export const ACTOR_HEADER = 'x-user-id';
const PRINTABLE = /^[\x21-\x7e][\x20-\x7e]{0,254}$/;

/**
 * The caller's identity, which becomes `created_by`. Until authentication lands it is a
 * header; it is still checked, so no empty, oversized or control-character value is stored.
 */
export const Actor = createParamDecorator((_data: unknown, context: ExecutionContext): string => {
  const value = context.switchToHttp().getRequest<FastifyRequest>().headers[ACTOR_HEADER];
  const actor = typeof value === 'string' ? value.trim() : undefined;
  if (actor === undefined || !PRINTABLE.test(actor)) throw new IdentityRequiredException('X-User-Id');
  return actor;
});
