import { randomUUID } from 'node:crypto';
import { ArgumentsHost, Catch, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { toProblem } from './problem.mapping';
import { problemBody } from './problem';

/** One place turns every error into application/problem+json; no stack trace ever leaves. */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    sendProblem(error, http.getRequest<FastifyRequest>(), http.getResponse<FastifyReply>(), this.logger);
  }
}

export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply, logger: Logger): void {
  const problem = toProblem(error);
  // A 500 is a bug: its stack goes to the log. A 503 is the service's state (a store down, read
  // models behind): one line. A 4xx is the client's: it is in the answer, not in the log.
  if (problem.status === 500) logger.error(`${request.method} ${request.url} [${request.correlationId}]: ${(error as Error)?.stack ?? String(error)}`);
  // The cause's own words when there is one: they name the store or the file (the client's detail does not).
  else if (problem.status >= 500) logger.warn(`${request.method} ${request.url} [${request.correlationId}]: ${problem.code} ${error instanceof Error && error !== problem ? error.message : problem.detail}`);
  // Errors raised before the request hooks ran (the router's) still carry a correlation id.
  if (!reply.hasHeader('x-correlation-id')) void reply.header('x-correlation-id', request.correlationId || randomUUID());
  for (const [name, value] of Object.entries(problem.headers)) void reply.header(name, value);
  void reply
    .status(problem.status)
    .header('content-type', 'application/problem+json; charset=utf-8')
    .send(problemBody(problem, request.url));
}
