import { ForbiddenException, Logger, RequestMethod, SetMetadata, type ArgumentMetadata, type CanActivate, type ExecutionContext, type PipeTransform, type Type } from '@nestjs/common';
import {
  EXCEPTION_FILTERS_METADATA,
  GUARDS_METADATA,
  HEADERS_METADATA,
  HTTP_CODE_METADATA,
  INTERCEPTORS_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  PIPES_METADATA,
  REDIRECT_METADATA,
  RESPONSE_PASSTHROUGH_METADATA,
  ROUTE_ARGS_METADATA,
  RouteParamtypes,
  SSE_METADATA,
} from '@nestjs/common/internal';
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { sendProblem } from '../http/problem.filter';

// The hot command routes are answered by a plain Fastify handler instead of Nest's router: the
// router's per-request machinery (execution context, guard and pipe consumers, interceptor
// chain, response controller, the exception zone) cost more of a durable command on the event
// loop than the command's own checks. Nothing else changes: Nest still declares the route (so
// the OpenAPI document, the compiled body schema and the answer's serialiser are as before), and
// the handler registered for it runs, in Nest's order, the very guards every route runs
// (GLOBAL_GUARDS: authentication, then the rate limit), the same pipes (the global validation
// pipe, then the parameter's own, e.g. the id's UUID check), the controller's own method, and on
// any error the one problem+json path (sendProblem, as ProblemFilter). What it cannot reproduce
// (a route-level guard, interceptor, filter or pipe, a custom parameter decorator, @Header,
// @Redirect, SSE, a non-passthrough @Res) stops start-up instead of being skipped.

const SERVED_DIRECTLY = 'stagecraft:served-directly';

/** Serve this controller method with a plain Fastify handler (see above); it keeps its Nest declaration. */
export const ServedDirectly = () => SetMetadata(SERVED_DIRECTLY, true);

export interface DirectRouteDependencies {
  /** The controller instances whose @ServedDirectly methods are served so. */
  readonly controllers: readonly object[];
  /** The guards every route runs (GLOBAL_GUARDS), in their order. */
  readonly guards: readonly CanActivate[];
  /** The application's global pipes, in their order. */
  readonly pipes: readonly PipeTransform[];
}

/**
 * One parameter of the method: taken as it is (the request, the reply: never awaited, a reply is
 * thenable) or through pipes (their value, or a promise of it when a pipe answered with one).
 */
type ResolveArgument =
  | { readonly piped: false; readonly take: (request: FastifyRequest, reply: FastifyReply) => unknown }
  | { readonly piped: true; readonly take: (request: FastifyRequest) => unknown };

type HttpArgumentsHost = ReturnType<ExecutionContext['switchToHttp']>;

/** A promise (or any thenable) a guard or pipe answered with, to be awaited; a plain value is used as it is. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

interface DirectRoute {
  readonly key: string;
  readonly controller: object;
  readonly method: (...args: unknown[]) => unknown;
  readonly status: number;
  readonly arguments: readonly ResolveArgument[];
}

/**
 * Swaps the handler of every @ServedDirectly route as Nest registers it (Fastify's onRoute hook;
 * call before the app is initialised) and checks, once the server is ready, that each was found.
 */
export function serveCommandRoutesDirectly(fastify: FastifyInstance, dependencies: DirectRouteDependencies): void {
  const routes = new Map<string, DirectRoute>();
  for (const controller of dependencies.controllers) {
    for (const route of directRoutesOf(controller, dependencies.pipes)) routes.set(route.key, route);
  }
  const swapped = new Set<string>();
  const logger = new Logger('HTTP');
  fastify.addHook('onRoute', (options: RouteOptions) => {
    const key = `${String(options.method)} ${options.url}`;
    const route = routes.get(key);
    if (!route) return;
    options.handler = directHandler(route, dependencies.guards, logger);
    swapped.add(key);
  });
  fastify.addHook('onReady', async () => {
    const missing = [...routes.keys()].filter((key) => !swapped.has(key));
    if (missing.length > 0) throw new Error(`Routes marked @ServedDirectly were not registered as expected: ${missing.join(', ')}`);
  });
}

function directHandler(route: DirectRoute, guards: readonly CanActivate[], logger: Logger) {
  const { controller, method, status } = route;
  const handlerClass = controller.constructor as Type<unknown>;
  return async function directCommandRoute(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    try {
      // As Nest's Fastify adapter: an empty path parameter (/opportunities//move) is no route.
      const params = request.params as Record<string, string>;
      for (const name in params) {
        if (params[name] === '') {
          reply.callNotFound();
          return reply;
        }
      }
      const context = new DirectExecutionContext(request, reply, handlerClass, method);
      // Awaited only when a promise (a guard or pipe answering at once costs no microtask here).
      for (const guard of guards) {
        let allowed: unknown = guard.canActivate(context);
        if (isThenable(allowed)) allowed = await allowed;
        if (typeof allowed !== 'boolean') throw new Error(`${guard.constructor.name} answered neither a boolean nor a promise of one`);
        if (!allowed) throw new ForbiddenException('Forbidden resource');
      }
      void reply.status(status);
      const args: unknown[] = new Array(route.arguments.length);
      // In parameter order, each through its pipes, as Nest starts them.
      for (let index = 0; index < route.arguments.length; index += 1) {
        const argument = route.arguments[index]!;
        if (!argument.piped) args[index] = argument.take(request, reply);
        else {
          const value = argument.take(request);
          args[index] = isThenable(value) ? await value : value;
        }
      }
      return await method.apply(controller, args);
    } catch (error) {
      sendProblem(error, request, reply, logger);
      return reply;
    }
  };
}

/** What a guard asks of the request it judges: the public ExecutionContext, for HTTP (and its own HTTP host: one object a request). */
class DirectExecutionContext implements ExecutionContext, HttpArgumentsHost {
  constructor(
    private readonly request: FastifyRequest,
    private readonly reply: FastifyReply,
    private readonly handlerClass: Type<unknown>,
    private readonly handler: (...args: unknown[]) => unknown,
  ) {}

  private get args(): unknown[] {
    return [this.request, this.reply, undefined];
  }

  getClass<T = unknown>(): Type<T> {
    return this.handlerClass as Type<T>;
  }
  getHandler(): (...args: unknown[]) => unknown {
    return this.handler;
  }
  getArgs<T extends unknown[] = unknown[]>(): T {
    return this.args as T;
  }
  getArgByIndex<T = unknown>(index: number): T {
    return this.args[index] as T;
  }
  getType<T extends string = 'http'>(): T {
    return 'http' as T;
  }
  switchToHttp(): HttpArgumentsHost {
    return this;
  }
  getRequest<T>(): T {
    return this.request as T;
  }
  getResponse<T>(): T {
    return this.reply as T;
  }
  getNext<T>(): T {
    return undefined as T;
  }
  switchToRpc(): never {
    throw new Error('A command route is HTTP');
  }
  switchToWs(): never {
    throw new Error('A command route is HTTP');
  }
}

/** The routes of one controller marked @ServedDirectly, read from Nest's own metadata. */
function directRoutesOf(controller: object, globalPipes: readonly PipeTransform[]): DirectRoute[] {
  const controllerClass = controller.constructor as Type<unknown>;
  const prototype = Object.getPrototypeOf(controller) as Record<string, unknown>;
  refuseEnhancers(controllerClass, controllerClass.name);
  const routes: DirectRoute[] = [];
  for (const name of Object.getOwnPropertyNames(prototype)) {
    const method = prototype[name];
    if (typeof method !== 'function' || Reflect.getMetadata(SERVED_DIRECTLY, method) !== true) continue;
    const where = `${controllerClass.name}.${name}`;
    refuseEnhancers(method, where);
    for (const key of [HEADERS_METADATA, REDIRECT_METADATA, SSE_METADATA, '__renderTemplate__']) {
      if (Reflect.getMetadata(key, method) !== undefined) throw new Error(`${where} is @ServedDirectly but has ${key}, which the direct handler does not apply`);
    }
    const httpMethod = RequestMethod[Reflect.getMetadata(METHOD_METADATA, method) as RequestMethod];
    const url = joinPaths(Reflect.getMetadata(PATH_METADATA, controllerClass) as string | undefined, Reflect.getMetadata(PATH_METADATA, method) as string | undefined);
    const status = (Reflect.getMetadata(HTTP_CODE_METADATA, method) as number | undefined) ?? (httpMethod === 'POST' ? 201 : 200);
    routes.push({ key: `${httpMethod} ${url}`, controller, method: method as DirectRoute['method'], status, arguments: argumentsOf(controllerClass, name, method, globalPipes, where) });
  }
  return routes;
}

/** Guards, interceptors, filters and pipes declared on a class or method: the direct handler applies only the global ones. */
function refuseEnhancers(target: object, where: string): void {
  for (const key of [GUARDS_METADATA, INTERCEPTORS_METADATA, EXCEPTION_FILTERS_METADATA, PIPES_METADATA]) {
    const declared = Reflect.getMetadata(key, target) as unknown[] | undefined;
    if (declared !== undefined && declared.length > 0) throw new Error(`${where} declares ${key}, which a @ServedDirectly route does not apply`);
  }
}

interface RouteArgumentMetadata {
  readonly index: number;
  readonly data?: unknown;
  readonly pipes: readonly PipeTransform[];
}

/** How each parameter of the method is found, as Nest's parameter decorators say: the request, the reply, the body, a path parameter. */
function argumentsOf(controllerClass: Type<unknown>, name: string, method: object, globalPipes: readonly PipeTransform[], where: string): ResolveArgument[] {
  const declared = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controllerClass, name) ?? {}) as Record<string, RouteArgumentMetadata>;
  const types = (Reflect.getMetadata('design:paramtypes', controllerClass.prototype as object, name) ?? []) as Type<unknown>[];
  const resolvers: ResolveArgument[] = [];
  for (const [key, argument] of Object.entries(declared)) {
    const kind = Number(key.split(':')[0]);
    const piped = (type: ArgumentMetadata['type'], extract: (request: FastifyRequest) => unknown): ResolveArgument => {
      const metadata: ArgumentMetadata = { type, metatype: types[argument.index], data: argument.data as string | undefined };
      const pipes = [...globalPipes, ...argument.pipes];
      return {
        piped: true,
        // Each pipe gets the value the one before it settled on; the chain turns asynchronous only
        // from the first pipe that answers with a promise.
        take: (request) => {
          let value = extract(request);
          for (let index = 0; index < pipes.length; index += 1) {
            value = pipes[index]!.transform(value, metadata);
            if (isThenable(value)) return settleThrough(value, pipes, index + 1, metadata);
          }
          return value;
        },
      };
    };
    if (kind === RouteParamtypes.REQUEST) resolvers[argument.index] = { piped: false, take: (request) => request };
    else if (kind === RouteParamtypes.RESPONSE) {
      if (Reflect.getMetadata(RESPONSE_PASSTHROUGH_METADATA, controllerClass, name) !== true) throw new Error(`${where} takes the reply without passthrough; the direct handler sends the method's result`);
      resolvers[argument.index] = { piped: false, take: (_request, reply) => reply };
    } else if (kind === RouteParamtypes.BODY && argument.data === undefined) resolvers[argument.index] = piped('body', (request) => request.body);
    else if (kind === RouteParamtypes.PARAM && typeof argument.data === 'string') {
      const param = argument.data;
      resolvers[argument.index] = piped('param', (request) => (request.params as Record<string, string | undefined>)[param]);
    } else throw new Error(`${where}: parameter ${argument.index} (${key}) is of a kind a @ServedDirectly route does not resolve`);
  }
  const expected = (method as (...args: unknown[]) => unknown).length;
  for (let index = 0; index < Math.max(expected, resolvers.length); index += 1) {
    if (!resolvers[index]) throw new Error(`${where}: parameter ${index} has no decorator a @ServedDirectly route resolves`);
  }
  return resolvers;
}

/** The rest of a pipe chain, from a pipe that answered with a promise. */
async function settleThrough(pending: PromiseLike<unknown>, pipes: readonly PipeTransform[], from: number, metadata: ArgumentMetadata): Promise<unknown> {
  let value = await pending;
  for (let index = from; index < pipes.length; index += 1) value = await pipes[index]!.transform(value, metadata);
  return value;
}

/** The path Nest registers for a controller path and a method path. */
function joinPaths(controllerPath = '', methodPath = ''): string {
  const parts = [controllerPath, methodPath].map((part) => part.replace(/^\/+|\/+$/g, '')).filter((part) => part !== '');
  return `/${parts.join('/')}`;
}
