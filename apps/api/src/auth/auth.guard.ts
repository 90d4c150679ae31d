import { Inject, Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiProblem } from '../http/problem';
import { AuthFailureLimiter } from './auth-failure.limiter';
import { Authenticator } from './authenticator.service';
import { clientAddressKey } from './client-address';
import type { Principal } from './principal';
import { ALLOWED_ROLES, PUBLIC_ROUTE, type Role } from './roles';

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

interface RouteAccess {
  readonly isPublic: boolean;
  readonly allowed: readonly Role[] | undefined;
}

/** Every route is closed unless it says who may call it; admin may call everything. */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);
  private readonly access = new WeakMap<object, WeakMap<object, RouteAccess>>();

  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
    @Inject(AuthFailureLimiter) private readonly failures: AuthFailureLimiter,
  ) {}

  // Synchronous when the credentials can be checked at once (an API key): Nest and the direct
  // command routes take a boolean as they take a promise of one, and a throw as a rejection.
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const { isPublic, allowed } = this.routeAccess(context);
    if (isPublic) return true;
    const http = context.switchToHttp();
    const request = http.getRequest<AuthenticatedRequest>();
    const principal = this.authenticateLimited(request, http.getResponse<FastifyReply>());
    return principal instanceof Promise ? principal.then((found) => this.admit(request, found, allowed)) : this.admit(request, principal, allowed);
  }

  /** Records who called and lets them through if the route is open to one of their roles. */
  private admit(request: AuthenticatedRequest, principal: Principal, allowed: readonly Role[] | undefined): boolean {
    request.principal = principal;

    if (!allowed) {
      // A route that forgot to declare its roles stays closed rather than open.
      this.logger.error(`Route ${request.method} ${request.routeOptions.url} declares no roles; refusing`);
      throw new ApiProblem('AUTH.FORBIDDEN', 'This route is not open to any role.');
    }
    if (principal.roles.includes('admin') || allowed.some((role) => principal.roles.includes(role))) return true;
    // @Allow() with no role: an admin-only route (key administration). Its answer names admin, not an empty list.
    const others = allowed.filter((role) => role !== 'admin');
    const required = others.length === 0 ? ['admin'] : allowed;
    const needs = others.length === 0 ? 'the role admin' : `${others.length === 1 ? `the role ${others[0]}` : `one of the roles ${others.join(', ')}`} (or admin)`;
    throw new ApiProblem('AUTH.FORBIDDEN', `This needs ${needs}; ${principal.name} has ${principal.roles.join(', ')}.`, {
      requiredRoles: required,
    });
  }

  /** What the route's decorators say about who may call it, read once per handler and class (decorators do not change). */
  private routeAccess(context: ExecutionContext): RouteAccess {
    const handler = context.getHandler();
    const controller = context.getClass();
    // By class too: a handler inherited by two controllers may be open to different roles in each.
    let byHandler = this.access.get(controller);
    if (!byHandler) this.access.set(controller, (byHandler = new WeakMap()));
    let access = byHandler.get(handler);
    if (!access) {
      const targets = [handler, controller];
      access = {
        isPublic: this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets) === true,
        allowed: this.reflector.getAllAndOverride<Role[] | undefined>(ALLOWED_ROLES, targets),
      };
      byHandler.set(handler, access);
    }
    return access;
  }

  // Presented credentials that fail are counted per client address; past the limit the address
  // waits before any credential is checked. A request without credentials guesses nothing.
  private authenticateLimited(request: AuthenticatedRequest, reply: FastifyReply): Principal | Promise<Principal> {
    const presented = this.authenticator.enabled && request.headers.authorization !== undefined;
    const address = clientAddressKey(request.ip);
    if (presented) {
      const wait = this.failures.retryAfterSeconds(address);
      if (wait > 0) {
        void reply.header('Retry-After', String(wait));
        throw new ApiProblem('REQUEST.RATE_LIMITED', `Too many failed authentication attempts from this address; wait ${wait} s (Retry-After), then retry with valid credentials.`);
      }
    }
    let principal: Principal | Promise<Principal>;
    try {
      principal = this.authenticator.authenticate(request.headers.authorization);
    } catch (error) {
      return this.refused(error, presented, address, reply);
    }
    return principal instanceof Promise ? principal.catch((error: unknown) => this.refused(error, presented, address, reply)) : principal;
  }

  /** A 401 counts against the address that presented credentials and says how to authenticate; any error goes on. */
  private refused(error: unknown, presented: boolean, address: string, reply: FastifyReply): never {
    if (error instanceof ApiProblem && error.status === 401) {
      if (presented) this.failures.recordFailure(address);
      void reply.header('WWW-Authenticate', presented ? 'Bearer realm="stagecraft", error="invalid_token"' : 'Bearer realm="stagecraft"');
    }
    throw error;
  }
}
