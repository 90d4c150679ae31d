import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ApiProblem } from '../http/problem';
import { API_SETTINGS, CLOCK, type Clock } from '../settings/api-settings.token';
import type { Settings } from '@stagecraft/config';
import { looksLikeApiKey, verifyApiKey, type StoredApiKey } from './api-key.credentials';
import { ApiKeyStore } from './api-key.store';
import { principalFromClaims } from './jwt.claims';
import { createJwtVerifier, JwksUnavailableError, JwtRejectedError, type JwtVerifier } from './jwt.verifier';
import { rolesOfPrincipal, teamsOfPrincipal, type Principal } from './principal';
import { ROLES } from './roles';

export const AUTH_OFF_PRINCIPAL: Principal = { name: 'anonymous', authenticatedBy: 'auth-off', roles: [...ROLES], mayActOnBehalf: true };

/** The principal of a stored key, made once per stored key (a changed or revoked key is another object, or none). */
const keyPrincipals = new WeakMap<StoredApiKey, Principal>();
export function principalOfKey(key: StoredApiKey): Principal {
  let principal = keyPrincipals.get(key);
  if (!principal) {
    principal = Object.freeze({
      name: key.name,
      authenticatedBy: `api-key:${key.id}`,
      roles: rolesOfPrincipal(key.roles),
      ...(key.teams ? { teams: teamsOfPrincipal(key.teams) } : {}),
      mayActOnBehalf: key.mayActOnBehalf === true,
    });
    keyPrincipals.set(key, principal);
  }
  return principal;
}

const unauthenticated = (detail: string, extensions: Record<string, unknown> = {}) => new ApiProblem('AUTH.UNAUTHENTICATED', detail, extensions);

/** Turns an Authorization header into a Principal, or refuses with a 401 that says why. */
@Injectable()
export class Authenticator implements OnModuleInit {
  private readonly logger = new Logger('Auth');
  private readonly jwt?: JwtVerifier;

  constructor(
    @Inject(API_SETTINGS) private readonly settings: Settings,
    @Inject(CLOCK) clock: Clock,
    @Inject(ApiKeyStore) private readonly keys: ApiKeyStore,
  ) {
    const { auth } = settings;
    if (auth.jwt) this.jwt = createJwtVerifier(auth.jwt, clock, (message) => this.logger.warn(message));
  }

  // An identity provider's keys are fetched ahead of the first token, without holding up start-up.
  onModuleInit(): void {
    if (this.enabled) void this.jwt?.prefetch();
  }

  get enabled(): boolean {
    return this.settings.auth.mode === 'on';
  }

  /**
   * The caller an Authorization header names, or a 401 problem thrown: at once for an API key (and
   * with authentication off), a promise for a JWT (its keys may have to be fetched). An API key is
   * a hash and a compare: making every request wait a microtask for it bought nothing.
   */
  authenticate(authorization: string | undefined): Principal | Promise<Principal> {
    if (!this.enabled) return AUTH_OFF_PRINCIPAL;
    if (!authorization) throw unauthenticated('Send credentials: Authorization: Bearer <API key or JWT>.');
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw unauthenticated('Authorization must be "Bearer <API key or JWT>".');
    const token = match[1]!;

    if (looksLikeApiKey(token) || !this.jwt) {
      const key = verifyApiKey(token, this.keys.keys);
      if (!key) throw unauthenticated('The API key is not valid.');
      return principalOfKey(key);
    }
    return this.authenticateJwt(this.jwt, token);
  }

  private async authenticateJwt(jwt: JwtVerifier, token: string): Promise<Principal> {
    try {
      return principalFromClaims(await jwt.verify(token));
    } catch (error) {
      if (error instanceof JwtRejectedError) throw unauthenticated(`The token is not accepted: ${error.reason}.`, error.claim ? { claim: error.claim } : {});
      if (error instanceof JwksUnavailableError) throw new ApiProblem('AUTH.KEYS_UNAVAILABLE', `Tokens cannot be verified right now: ${error.message}. Retry shortly, or use an API key.`);
      throw error;
    }
  }
}
