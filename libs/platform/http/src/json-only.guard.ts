import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { ProblemException } from './problem-details.filter.js';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * For JSON APIs: a request that carries a body must say it is JSON, or it gets 415.
 * (Fastify also parses text/plain and Nest form bodies; neither is a workflow.)
 */
@Injectable()
export class JsonOnlyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const hasBody = request.headers['content-length'] !== undefined ? request.headers['content-length'] !== '0' : request.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return true;
    const type = request.headers['content-type'] ?? '';
    if (JSON_TYPE.test(type)) return true;
    throw new ProblemException({
      type: 'about:blank',
      title: 'Unsupported media type',
      status: 415,
      detail: `Send the body as application/json (got ${JSON.stringify(type.slice(0, 100)) || 'no content type'}).`,
    });
  }
}
