import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { FastifyRequest } from 'fastify';
import { unknownField, validationProblem } from './problem';

/** What a route reads of a request: its query (by a DTO, or only these names) and whether it has a body. */
interface RouteInputs {
  readonly queryDto: boolean;
  readonly queryNames: ReadonlySet<string>;
  readonly body: boolean;
}

/**
 * Input a route does not read is refused on every route, as unknown fields are: a route with a
 * query DTO has class-validator refuse unknown parameters (validation.ts), and this guard refuses
 * any parameter a route without one does not name (`POST /opportunities?dryRun=1` would otherwise
 * open a deal silently, `/processes/x/machine?verison=2` answer the current version), and a body
 * sent to a route that reads none (`GET /analytics/funnel` with `{"teamId": …}` answered for every
 * team). Runs after authentication, so a caller without credentials is told that first.
 */
@Injectable()
export class KnownInputGuard implements CanActivate {
  private readonly routes = new WeakMap<object, RouteInputs>();

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const query = request.query as Record<string, unknown> | null | undefined;
    const body = request.body;
    // The usual request: no query, and a body only where one is read.
    const hasQuery = hasKeys(query);
    const hasBody = body !== undefined && !(isPlainObject(body) && !hasKeys(body));
    if (!hasQuery && !hasBody) return true;
    const inputs = this.inputsOf(context);
    if (hasBody && !inputs.body) throw validationProblem([{ field: '(body)', message: 'this route takes no body; its parameters, if any, go in the query string' }]);
    if (!hasQuery || inputs.queryDto) return true;
    const unknown = Object.keys(query!).filter((name) => !inputs.queryNames.has(name));
    if (unknown.length > 0) throw validationProblem(unknown.map(unknownField));
    return true;
  }

  private inputsOf(context: ExecutionContext): RouteInputs {
    const handler = context.getHandler();
    let inputs = this.routes.get(handler);
    if (!inputs) {
      const args = Object.entries((Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {}) as Record<string, { data?: unknown }>);
      const of = (type: RouteParamtypes) => args.filter(([key]) => Number(key.split(':')[0]) === type).map(([, arg]) => arg);
      const queries = of(RouteParamtypes.QUERY);
      inputs = {
        queryDto: queries.some((arg) => arg.data === undefined),
        queryNames: new Set(queries.map((arg) => String(arg.data))),
        body: of(RouteParamtypes.BODY).length > 0,
      };
      this.routes.set(handler, inputs);
    }
    return inputs;
  }
}

function hasKeys(value: object | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  for (const _ in value) return true;
  return false;
}

const isPlainObject = (value: unknown): value is object => value !== null && typeof value === 'object' && !Array.isArray(value);
