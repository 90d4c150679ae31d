import { Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { ROUTE_ARGS_METADATA } from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import type { FastifyRequest } from 'fastify';
import { parametersElsewhereOf, toldWhereElsewhere } from './parameters-elsewhere.decorator';
import { ApiProblem, unknownField, validationProblem } from './problem';

/** Headers that ask a route to do something it may not do: apply a change once, only at a revision, on someone's behalf. */
const COMMAND_HEADERS = ['idempotency-key', 'if-match', 'x-actor'] as const;
type CommandHeader = (typeof COMMAND_HEADERS)[number];
const HONOURED_HEADERS = 'stagecraft:honoured-headers';
/** The command headers a route acts on (the commands: all three; a bulk migration: no If-Match); any other change refuses them. */
export const HonoursHeaders = (...names: CommandHeader[]) => SetMetadata(HONOURED_HEADERS, names);
/** Methods that change nothing: a retry or a precondition asks nothing of them, and clients may send such headers everywhere. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What a route reads of a request: its query (by a DTO, or only these names), whether it has a body, and the command headers it acts on. */
interface RouteInputs {
  readonly queryDto: boolean;
  readonly queryNames: ReadonlySet<string>;
  readonly body: boolean;
  readonly headers: ReadonlySet<string>;
}

/**
 * Input a route does not read is refused on every route, as unknown fields are: a route with a
 * query DTO has class-validator refuse unknown parameters (validation.ts), and this guard refuses
 * any parameter a route without one does not name (`POST /opportunities?dryRun=1` would otherwise
 * open a deal silently, `/processes/x/machine?verison=2` answer the current version), and a body
 * sent to a route that reads none (`GET /analytics/funnel` with `{"teamId": …}` answered for every
 * team). Runs after authentication, so a caller without credentials is told that first.
 *
 * The same for the command headers on a change that does not act on them: an Idempotency-Key on
 * `POST /admin/api-keys` made a second live key on every retry (the client, told retries were
 * safe, never saw the first one's secret), an If-Match on a bulk migration migrated whatever the
 * revisions were. Such a request is refused (400 REQUEST.INVALID_HEADER) before it changes anything.
 */
@Injectable()
export class KnownInputGuard implements CanActivate {
  private readonly routes = new WeakMap<object, RouteInputs>();

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    if (!SAFE_METHODS.has(request.method)) this.refuseCommandHeaders(context, request);
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
    if (unknown.length > 0) throw validationProblem(toldWhereElsewhere(unknown.map(unknownField), parametersElsewhereOf(context.getHandler())));
    return true;
  }

  private refuseCommandHeaders(context: ExecutionContext, request: FastifyRequest): void {
    for (const name of COMMAND_HEADERS) {
      if (request.headers[name] === undefined || this.inputsOf(context).headers.has(name)) continue;
      throw new ApiProblem('REQUEST.INVALID_HEADER', `This route does not act on ${HEADER_NAMES[name]}: ${HEADER_MEANINGS[name]}. Send the request without it.`, { header: name });
    }
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
        headers: new Set((Reflect.getMetadata(HONOURED_HEADERS, handler) as CommandHeader[] | undefined) ?? []),
      };
      this.routes.set(handler, inputs);
    }
    return inputs;
  }
}

const HEADER_NAMES: Readonly<Record<CommandHeader, string>> = { 'idempotency-key': 'Idempotency-Key', 'if-match': 'If-Match', 'x-actor': 'X-Actor' };
const HEADER_MEANINGS: Readonly<Record<CommandHeader, string>> = {
  'idempotency-key': 'a retry is not recognised as one and would do it again',
  'if-match': 'it is not made conditional on a revision',
  'x-actor': 'no one is recorded as acted for',
};

function hasKeys(value: object | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  for (const _ in value) return true;
  return false;
}

const isPlainObject = (value: unknown): value is object => value !== null && typeof value === 'object' && !Array.isArray(value);
