import { randomUUID } from 'node:crypto';
import { ArgumentsHost, Catch, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from './problem.mapping';
import { ApiProblem, pathOf, problemBody, problemHeaders } from './problem';
import type { RouteMethods } from './route-methods';

/** One place turns every error into application/problem+json; no stack trace ever leaves. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  /** `routes`: the methods of every route, to answer 405 for a known path asked with another method. */
  constructor(private readonly routes?: RouteMethods) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger, this.routes);
  }
}

export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger, routes?: RouteMethods): void {
  let problem = toProblem(error);
  // The router's not-found only: a 404 a hook answered on purpose (docs-files.hook.ts) names no path with other methods.
  if (problem.code === 'ROUTE.NOT_FOUND' && routes && !(error instanceof ApiProblem)) problem = methodNotAllowed(request, routes) ?? problem;
  // A 500 is a bug: its stack goes to the log. A 503 is the service's state (a store down, read
  // models behind): one line. A 4xx is the client's: it is in the answer, not in the log.
  if (problem.status === 500) logger.error(`${request.method} ${request.url} [${request.correlationId}]: ${(error as Error)?.stack ?? String(error)}`);
  // The cause's own words when there is one: they name the store or the file (the client's detail does not).
  else if (problem.status >= 500) logger.warn(`${request.method} ${request.url} [${request.correlationId}]: ${problem.code} ${error instanceof Error && error !== problem ? error.message : problem.detail}`);
  // Errors raised before the request hooks ran (the router's) still carry a correlation id.
  if (!reply.hasHeader('x-correlation-id')) void reply.header('x-correlation-id', request.correlationId || randomUUID());
  for (const [name, value] of Object.entries(problemHeaders(problem))) void reply.header(name, value);
  void reply
    .status(problem.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    // The path alone: a query may hold what must not be echoed (a key sent as ?access_token=).
    .send(problemBody(problem, pathOf(request.url)));
}

/** 405 with Allow when the router found no route but the path has routes under other methods. */
function methodNotAllowed(request: FastifyRequest, routes: RouteMethods): ApiProblem | undefined {
  const allowed = routes.allowedFor(request.url);
  if (allowed.length === 0 || allowed.includes(request.method)) return undefined;
  return new ApiProblem(
    'ROUTE.METHOD_NOT_ALLOWED',
    `${request.method} is not a method of this route; it takes ${allowed.join(', ')} (the API is described at /docs).`,
    { allowedMethods: allowed },
    { allow: allowed.join(', ') },
  );
}
