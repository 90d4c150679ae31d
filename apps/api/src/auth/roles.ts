import { SetMetadata } from '@nestjs/common';
import type { Role } from './role.names';

// The names apart, without Nest: `npm run api-keys` checks --roles before it loads anything heavier.
export { isRole, ROLES, type Role } from './role.names';

export const ALLOWED_ROLES = 'stagecraft:allowed-roles';
export const PUBLIC_ROUTE = 'stagecraft:public-route';

/** The roles allowed to call a route (admin is always allowed). Every non-public route declares it. */
export const Allow = (...roles: Role[]) => SetMetadata(ALLOWED_ROLES, roles);
/** A route anyone may call without credentials: health checks and the API description. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);
