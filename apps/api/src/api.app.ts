import 'reflect-metadata';
import type { Socket } from 'node:net';
import { Logger, type CanActivate, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { withDocumentedAnswers } from './http/openapi.answers';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiModule, type ApiModuleOptions } from './api.module';
import { GLOBAL_GUARDS } from './auth/auth.module';
import { serveBoard } from './board/board.static';
import { answerConnect, answerUnmetExpectation, clientErrorHandler, idleConnectionHandler } from './http/client-error.handler';
import { addCompiledBodyValidation } from './http/compiled-body';
import { ProblemFilter, sendProblem } from './http/problem.filter';
import { ShutdownAwareFastifyAdapter } from './http/shutdown-aware.adapter';
import { ApiProblem } from './http/problem';
import { parseJsonBodies } from './http/json-body.parser';
import { addRequestShapeHooks } from './http/request-shape.hooks';
import { limitDocsToItsFiles } from './http/docs-files.hook';
import { answerUnroutedBeforeBody, collectRouteMethods } from './http/route-methods';
import { addSecurityHeaders } from './http/security.headers';
import { createValidationPipe } from './http/validation';
import { OpportunitiesController } from './opportunities/opportunities.controller';
import { serveCommandRoutesDirectly } from './opportunities/direct-command.routes';
import { ApiLogger } from './start-up.logger';

export interface CreateApiAppOptions extends ApiModuleOptions {
  readonly logger?: LoggerService | false;
  /**
   * Serve the hot command routes with plain Fastify handlers (default). false leaves them to Nest's
   * router: only for the spec that holds both ways to the same answers.
   */
  readonly directCommandRoutes?: boolean;
}

/** Builds the HTTP application (not listening yet): used by main.ts and by the end-to-end tests. */
export async function createApiApp({ settings, clock, logger, directCommandRoutes = true }: CreateApiAppOptions): Promise<NestFastifyApplication> {
  // X-Forwarded-For names the client only when it comes from a proxy TRUST_PROXY names: believed
  // from anyone, each request could pick a new address and reset the per-address limits.
  const hops = settings.trustProxy;
  const trustProxy = hops === false ? false : typeof hops === 'number' ? (_address: string, hop: number) => hop < hops : [...hops];
  // Errors the router raises before any route (a bad URL, an over-long path segment) answer as problems too.
  const frameworkLogger = new Logger('HTTP');
  // Closing, Node's server stops checking REQUEST_TIMEOUT_MS (server.close() clears that check),
  // so a client trickling a body would hold a SIGTERM's shutdown for as long as it likes. Once
  // closing, a connection still open after REQUEST_TIMEOUT_MS is cut: a shutdown waits that long at
  // most, for a request still being worked on too (a long bulk migration is cut; run it again).
  // Closing starts with the shutdown, before Nest's hooks run (ShutdownAwareFastifyAdapter), or
  // when Fastify is closed on its own.
  let closing = false;
  const startClosing = () => {
    if (closing) return;
    closing = true;
    setTimeout(() => app.getHttpServer().closeAllConnections(), settings.requestTimeoutMs).unref();
  };
  const adapter = new ShutdownAwareFastifyAdapter({
    bodyLimit: settings.bodyLimit,
    trustProxy,
    frameworkErrors: (error: Error, request: FastifyRequest, reply: FastifyReply) => sendProblem(error, request, reply, frameworkLogger),
    // The route table (filled below) tells a method the parser does not know from a path with no route.
    clientErrorHandler: (error: Error & { code?: string }, socket: Socket) => clientErrorHandler(error, socket, routeMethods),
    // A request must arrive whole (its body too) within REQUEST_TIMEOUT_MS, checked a few times
    // within it: Fastify's default, none, let a client that stops sending hold its connection for
    // ever (408 REQUEST.TIMEOUT by clientErrorHandler, then the connection is closed). Given to
    // Node's server as it is made too: set afterwards (as Fastify does), Node 20 never applies it.
    requestTimeout: settings.requestTimeoutMs,
    // Requests that arrive while closing are answered as problems by a hook of ours (below).
    return503OnClosing: false,
    // A connection on which nothing moves for CONNECTION_IDLE_TIMEOUT_MS is closed: a client that
    // stops reading its answers (pipelined requests whose answers it never takes) held them in this
    // process's memory for as long as it liked. A request still being worked on keeps its
    // connection (idleConnectionHandler, below).
    connectionTimeout: settings.connectionIdleTimeoutMs,
    http: {
      requestTimeout: settings.requestTimeoutMs,
      headersTimeout: Math.min(60_000, settings.requestTimeoutMs),
      connectionsCheckingInterval: Math.min(30_000, Math.max(250, Math.floor(settings.requestTimeoutMs / 4))),
      // A request without Host is refused by the request hooks, as a problem, not by Node with a bare 400.
      requireHostHeader: false,
    },
  }, startClosing);
  // Nest's body parsers are left out: Fastify's own JSON parser is the only one (no form bodies).
  const app = await NestFactory.create<NestFastifyApplication>(ApiModule.forRoot({ settings, clock }), adapter, {
    logger: logger ?? new ApiLogger(),
    abortOnError: false,
    bodyParser: false,
  });
  app.getHttpAdapter().getInstance().addHook('preClose', (done: () => void) => {
    startClosing();
    done();
  });
  // A request that arrives while closing (on a connection kept alive) is answered as a problem,
  // with Retry-After and the connection closed, and not run: Fastify's own answer there
  // (return503OnClosing, turned off above) was a bare JSON without a code.
  app.getHttpAdapter().getInstance().addHook('onRequest', (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    if (!closing) return done();
    void reply.header('connection', 'close');
    throw new ApiProblem('SERVICE.SHUTTING_DOWN', 'This instance is shutting down, so the request was not run; send it again (another instance, or this one restarted, takes it).', {}, { 'retry-after': '1' });
  });
  // A connection kept alive whose last answer went out while closing is let go at once (unless
  // another request on it is pending): otherwise it held the shutdown until the cut above
  // (REQUEST_TIMEOUT_MS, 30 s by default), as server.close() ends only the connections idle then.
  app.getHttpAdapter().getInstance().addHook('onResponse', (_request: FastifyRequest, _reply: FastifyReply, done: () => void) => {
    if (closing) setImmediate(() => app.getHttpServer().closeIdleConnections());
    done();
  });
  addRequestShapeHooks(app.getHttpAdapter().getInstance());
  limitDocsToItsFiles(app.getHttpAdapter().getInstance());
  // An Expect other than 100-continue: Node would answer a bare 417 with no body.
  app.getHttpServer().on('checkExpectation', answerUnmetExpectation);
  // CONNECT (a proxy's tunnel): unheard, Node closes the socket without a word.
  app.getHttpServer().on('connect', answerConnect);
  app.getHttpServer().on('timeout', idleConnectionHandler(settings.connectionIdleTimeoutMs));
  // Every route's methods, so a known path asked with another method is a 405 rather than a 404.
  const routeMethods = collectRouteMethods(app.getHttpAdapter().getInstance());
  answerUnroutedBeforeBody(app.getHttpAdapter().getInstance());
  // The command routes' bodies: a compiled schema accepts the well-formed ones (http/compiled-body.ts).
  addCompiledBodyValidation(app.getHttpAdapter().getInstance());

  // Errors Fastify raises before a route runs (malformed JSON, body too large, media type) reach
  // the same filter through Nest's error handler; toProblem knows their codes. Bodies are JSON
  // only: without the text/plain parser, any other type is a 415 instead of a confusing 400.
  app.getHttpAdapter().getInstance().removeContentTypeParser('text/plain');
  // JSON bodies are UTF-8 or refused, never decoded with replacement characters (http/json-body.parser.ts).
  parseJsonBodies(app.getHttpAdapter().getInstance(), settings.bodyLimit);

  // Security headers on every answer (helmet's defaults, written out once: http/security.headers.ts).
  addSecurityHeaders(app.getHttpAdapter().getInstance());

  await serveBoard(app, settings.boardAssetsDir, undefined, settings.boardAssetsRequired === true);

  app.useGlobalFilters(new ProblemFilter(routeMethods));
  const validationPipe = createValidationPipe();
  app.useGlobalPipes(validationPipe);
  // The hot command routes: a plain Fastify handler running the same guards, pipes and method
  // (opportunities/direct-command.routes.ts). Their routes are registered when the app initialises.
  if (directCommandRoutes) {
    serveCommandRoutesDirectly(app.getHttpAdapter().getInstance(), {
      controllers: [app.get(OpportunitiesController)],
      guards: app.get<CanActivate[]>(GLOBAL_GUARDS),
      pipes: [validationPipe],
    });
  }
  app.enableShutdownHooks();

  const document = withDocumentedAnswers(
    SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('Stagecraft')
      .setDescription('Sales process engine: commands on opportunities, process definitions, health. Errors are application/problem+json with a stable `code`.')
      .setVersion('0.1.0')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'An API key (sck_…) or a JWT' })
      .build(),
    ),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
  return app;
}
