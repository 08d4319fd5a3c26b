import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
// Where Nest keeps what @Query()/@Body()/@Param() declared; stable since Nest 5, public as `internal` only.
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants.js';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum.js';
import type { FastifyRequest } from 'fastify';
import { type InvalidParam, ValidationProblem } from './problem-details.filter.js';
import { jsonPointer, ZodValidationPipe, zodObjectKeys } from './zod-validation.js';

/** What a route reads from the request, as its parameter decorators declare it. */
interface RouteParameters {
  /** Query parameters the route takes. */
  readonly query: ReadonlySet<string>;
  /** Fields of its JSON body, to tell a caller who put one in the query string where it goes. */
  readonly body: ReadonlySet<string>;
}

interface RouteArg {
  readonly data?: unknown;
  readonly pipes?: readonly unknown[];
}

const NAMES_IN_DETAIL = 5;

/** A query string the route does not take: 400, one entry per unknown parameter, naming it. */
export class UnknownQueryParameterProblem extends ValidationProblem {
  constructor(errors: readonly InvalidParam[], names: readonly string[]) {
    const shown = names.slice(0, NAMES_IN_DETAIL).map((name) => JSON.stringify(name.slice(0, 40)));
    super(errors, `Unknown query parameter${names.length > 1 ? 's' : ''}: ${shown.join(', ')}${names.length > NAMES_IN_DETAIL ? ', …' : ''}.`);
  }
}

/**
 * Every route refuses query parameters it does not take (400 problem+json naming each), so
 * `?mode=async` on a route whose `mode` is a body field is an error, not silently ignored.
 * What a route takes is read from its own declarations, so no route can forget: the keys of
 * the zod schema of its `@Query(new ZodValidationPipe(schema))`, or the names of its
 * `@Query('name')` parameters; a route that reads no query takes none. Registered for every
 * app by PlatformModule (APP_GUARD); a controller that must answer in another format (the
 * USSD gateways) catches `UnknownQueryParameterProblem` with its own filter.
 */
@Injectable()
export class KnownQueryGuard implements CanActivate {
  private readonly routes = new WeakMap<object, RouteParameters>();

  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const query = context.switchToHttp().getRequest<FastifyRequest>().query;
    if (query === null || typeof query !== 'object') return true;
    const names = Object.keys(query);
    if (names.length === 0) return true;
    const route = this.route(context);
    const unknown = names.filter((name) => !route.query.has(name));
    if (unknown.length === 0) return true;
    const takes = route.query.size === 0 ? 'this endpoint takes no query parameters' : `this endpoint takes ${[...route.query].join(', ')}`;
    const errors = unknown.slice(0, 100).map(
      (name): InvalidParam => ({
        in: 'query',
        pointer: jsonPointer([name]),
        code: 'unknown-parameter',
        message: route.body.has(name) ? `unknown query parameter: ${name} is a field of the JSON body; send it there` : `unknown query parameter: ${takes}`,
      }),
    );
    throw new UnknownQueryParameterProblem(errors, unknown);
  }

  private route(context: ExecutionContext): RouteParameters {
    const handler = context.getHandler();
    const known = this.routes.get(handler);
    if (known !== undefined) return known;
    const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {}) as Record<string, RouteArg>;
    const query = new Set<string>();
    const body = new Set<string>();
    for (const [key, arg] of Object.entries(args)) {
      const type = Number(key.split(':')[0]); // `${RouteParamtypes}:${index}`; custom decorators are not numbers
      if (type !== RouteParamtypes.QUERY && type !== RouteParamtypes.BODY) continue;
      const into = type === RouteParamtypes.QUERY ? query : body;
      if (typeof arg.data === 'string') {
        into.add(arg.data);
        continue;
      }
      for (const pipe of arg.pipes ?? []) {
        if (pipe instanceof ZodValidationPipe) for (const name of zodObjectKeys(pipe.schema) ?? []) into.add(name);
      }
    }
    const route = { query, body };
    this.routes.set(handler, route);
    return route;
  }
}
