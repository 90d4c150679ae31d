import { Inject, Injectable } from '@nestjs/common';
import { ApiProblem } from '../http/problem';
import { API_SETTINGS, CLOCK, type Clock } from '../settings/api-settings.token';
import type { ApiSettings } from '../settings/api-settings';
import { looksLikeApiKey, verifyApiKey, type StoredApiKey } from './api-key.credentials';
import { parseApiKeys, readApiKeysFile } from './api-keys.file';
import { createJwtVerifier, JwtRejectedError, type JwtClaims } from './jwt.verifier';
import type { Principal } from './principal';
import { isRole, ROLES } from './roles';

export const AUTH_OFF_PRINCIPAL: Principal = { name: 'anonymous', authenticatedBy: 'auth-off', roles: [...ROLES], mayActOnBehalf: true };

const unauthenticated = (detail: string) => new ApiProblem(401, 'AUTH.UNAUTHENTICATED', detail);

/** Turns an Authorization header into a Principal, or refuses with a 401 that says why. */
@Injectable()
export class Authenticator {
  private readonly keys: Map<string, StoredApiKey>;
  private readonly verifyJwt?: (token: string) => JwtClaims;

  constructor(@Inject(API_SETTINGS) private readonly settings: ApiSettings, @Inject(CLOCK) clock: Clock) {
    const { auth } = settings;
    const keys = [...readApiKeysFile(auth.apiKeysFile), ...(auth.inlineApiKeys ? parseApiKeys(auth.inlineApiKeys, 'API_KEYS') : [])];
    this.keys = new Map(keys.map((key) => [key.id, key]));
    if (auth.jwt) this.verifyJwt = createJwtVerifier(auth.jwt, clock);
  }

  get enabled(): boolean {
    return this.settings.auth.mode === 'on';
  }

  get configuredKeyCount(): number {
    return this.keys.size;
  }

  async authenticate(authorization: string | undefined): Promise<Principal> {
    if (!this.enabled) return AUTH_OFF_PRINCIPAL;
    if (!authorization) throw unauthenticated('Send credentials: Authorization: Bearer <API key or JWT>.');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw unauthenticated('Authorization must be "Bearer <API key or JWT>".');
    const token = match[1]!;

    if (looksLikeApiKey(token) || !this.verifyJwt) {
      const key = verifyApiKey(token, this.keys);
      if (!key) throw unauthenticated('The API key is not valid.');
      return {
        name: key.name,
        authenticatedBy: `api-key:${key.id}`,
        roles: key.roles,
        ...(key.teams ? { teams: key.teams } : {}),
        mayActOnBehalf: key.mayActOnBehalf === true,
      };
    }
    try {
      return principalFromClaims(this.verifyJwt(token));
    } catch (error) {
      if (error instanceof JwtRejectedError) throw unauthenticated(`The token is not accepted: ${error.reason}.`);
      throw error;
    }
  }
}

// Claims: sub (name), roles (list), teams (optional list), act_on_behalf (optional boolean).
function principalFromClaims(claims: JwtClaims): Principal {
  const roles = Array.isArray(claims.roles) ? claims.roles.filter(isRole) : [];
  if (roles.length === 0) throw unauthenticated('The token is not accepted: it grants no role (claim "roles": writer, analyst, auditor or admin).');
  const teams = Array.isArray(claims.teams) ? claims.teams.filter((team): team is string => typeof team === 'string') : undefined;
  return { name: claims.sub, authenticatedBy: 'jwt', roles, ...(teams ? { teams } : {}), mayActOnBehalf: claims.act_on_behalf === true };
}
