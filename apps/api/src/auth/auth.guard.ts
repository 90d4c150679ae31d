import { Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiProblem } from '../http/problem';
import { Authenticator } from './authenticator.service';
import type { Principal } from './principal';
import { ALLOWED_ROLES, PUBLIC_ROUTE, type Role } from './roles';

export type AuthenticatedRequest = FastifyRequest & { principal?: Principal };

/** Every route is closed unless it says who may call it; admin may call everything. */
@Injectable()
export class AuthGuard implements CanActivate {
  private readonly logger = new Logger(AuthGuard.name);

  constructor(
    private readonly reflector: Reflector,
    private readonly authenticator: Authenticator,
  ) {}

  canActivate(context: ExecutionContext): boolean {
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const principal = this.authenticator.authenticate(request.headers.authorization);
    request.principal = principal;

    const allowed = this.reflector.getAllAndOverride<Role[] | undefined>(ALLOWED_ROLES, targets);
    if (!allowed) {
      // A route that forgot to declare its roles stays closed rather than open.
      this.logger.error(`Route ${request.method} ${request.routeOptions.url} declares no roles; refusing`);
      throw new ApiProblem('AUTH.FORBIDDEN', 'This route is not open to any role.');
    }
    if (principal.roles.includes('admin') || allowed.some((role) => principal.roles.includes(role))) return true;
    throw new ApiProblem('AUTH.FORBIDDEN', `This needs one of the roles ${allowed.join(', ')} (or admin); ${principal.name} has ${principal.roles.join(', ')}.`, {
      requiredRoles: allowed,
    });
  }
}
