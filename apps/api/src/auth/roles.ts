import { SetMetadata } from '@nestjs/common';

/** What each kind of user does; `admin` may also do everything the others may. */
export const ROLES = ['writer', 'analyst', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const ALLOWED_ROLES = 'stagecraft:allowed-roles';
export const PUBLIC_ROUTE = 'stagecraft:public-route';

/** The roles allowed to call a route (admin is always allowed). Every non-public route declares it. */
export const Allow = (...roles: Role[]) => SetMetadata(ALLOWED_ROLES, roles);
/** A route anyone may call without credentials: health checks and the API description. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
