import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { FastifyRequest } from 'fastify';
import { validationProblem } from './problem';

/** A route's query: judged by a DTO (`@Query() dto`), or only these names (`@Query('version')`; none). */
type QueryRule = { readonly dto: true } | { readonly dto: false; readonly names: ReadonlySet<string> };

/**
 * Unknown query parameters are refused on every route, as unknown fields are: a route with a query
 * DTO has class-validator refuse them (validation.ts), and this guard refuses any parameter a route
 * without one does not name (`POST /opportunities?dryRun=1` would otherwise open a deal silently,
 * `/processes/x/machine?verison=2` answer the current version). Runs after authentication, so a
 * caller without credentials is told that first.
 */
@Injectable()
export class KnownQueryGuard implements CanActivate {
  private readonly rules = new WeakMap<object, QueryRule>();

  canActivate(context: ExecutionContext): boolean {
    const query = context.switchToHttp().getRequest<FastifyRequest>().query as Record<string, unknown> | null | undefined;
    // The usual request has no query: nothing to look up.
    if (!hasKeys(query)) return true;
    const rule = this.ruleOf(context);
    if (rule.dto) return true;
    const unknown = Object.keys(query!).filter((name) => !rule.names.has(name));
    if (unknown.length > 0) throw validationProblem(unknown.map((field) => ({ field, message: `property ${field} should not exist` })));
    return true;
  }

  private ruleOf(context: ExecutionContext): QueryRule {
    const handler = context.getHandler();
    let rule = this.rules.get(handler);
    if (!rule) {
      const args = (Reflect.getMetadata(ROUTE_ARGS_METADATA, context.getClass(), handler.name) ?? {}) as Record<string, { data?: unknown }>;
      const queries = Object.entries(args).filter(([key]) => Number(key.split(':')[0]) === RouteParamtypes.QUERY);
      rule = queries.some(([, arg]) => arg.data === undefined) ? { dto: true } : { dto: false, names: new Set(queries.map(([, arg]) => String(arg.data))) };
      this.rules.set(handler, rule);
    }
    return rule;
  }
}

function hasKeys(value: Record<string, unknown> | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  for (const _ in value) return true;
  return false;
}
