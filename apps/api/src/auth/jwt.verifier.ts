import { createPublicKey } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import { firstRepeatedName, type JwtSettings } from '@stagecraft/config';
import { JWKS_CACHE_DEFAULTS, JwksCache, JwksUnavailableError } from './jwks.cache';
import { PublicKeyFile } from './public-key.file';
import { quotedValue } from '@stagecraft/sales-process';

export { JwksUnavailableError };

/** Where the verification keys come from (exactly one of secret, publicKey and jwksUrl) and what a token must say: the settings, as read. */
export type JwtOptions = JwtSettings;

/** A token that is not acceptable; `reason` is safe to show the caller, `claim` names the claim at fault. */
export class JwtRejectedError extends Error {
  constructor(
    readonly reason: string,
    readonly claim?: string,
  ) {
    super(reason);
    this.name = 'JwtRejectedError';
  }
}

export interface JwtVerifier {
  /** The verified claims; throws JwtRejectedError, or JwksUnavailableError while no key set is known. */
  verify(token: string): Promise<JWTPayload>;
  /** Gets the remote key set ahead of the first token (a no-op for static keys). */
  prefetch(): Promise<void>;
}

/** The furthest instant a Date holds, in seconds (ECMAScript's ±8.64e15 ms). */
const LATEST_DATE_SECONDS = 8.64e12;

/** Verifies JWS-signed JWTs with jose: signature, algorithm, exp (required), nbf, iss and aud. */
export function createJwtVerifier(options: JwtOptions, now: () => Date, warn: (message: string) => void = () => undefined): JwtVerifier {
  const jwks = options.jwksUrl !== undefined ? new JwksCache(new URL(options.jwksUrl), () => now().getTime(), warn, jwksCacheOptions(options.jwksMaxAgeSeconds)) : undefined;
  const keyFile =
    options.publicKeyFile !== undefined && options.publicKey !== undefined ? new PublicKeyFile(options.publicKeyFile, options.publicKey, options.algorithms, () => now().getTime(), warn) : undefined;
  const fixedKey = keyFile ? undefined : keyFor(options, jwks);
  return {
    prefetch: () => jwks?.prefetch() ?? Promise.resolve(),
    async verify(token) {
      const { key, algorithms } = keyFile ? keyFile.key() : { key: fixedKey!, algorithms: options.algorithms };
      const verifyOptions: JWTVerifyOptions = {
        algorithms: [...algorithms],
        ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
        ...(options.audience !== undefined ? { audience: options.audience } : {}),
        requiredClaims: ['exp'],
        clockTolerance: options.clockToleranceSeconds,
        currentDate: now(),
      };
      const seenKeySet = jwks?.generation;
      try {
        // A signature no cached key verifies may come from a key the provider rotated in since the
        // set was fetched: one without a kid, or one published under a kid it reused (some
        // providers rotate behind an unchanged kid). Only a fetch tells that from a forgery, so it
        // fetches, under the cache's cooldown (a flood of forged tokens costs one fetch per it). A
        // kid the set lacks never gets here: the cache fetches for it while looking the key up.
        const payload = await verifiedPayload(token, key as JWTVerifyGetKey, verifyOptions).catch(async (error: unknown) => {
          if (jwks && seenKeySet !== undefined && error instanceof errors.JWSSignatureVerificationFailed && (await jwks.refreshedSince(seenKeySet))) {
            return verifiedPayload(token, key as JWTVerifyGetKey, verifyOptions);
          }
          throw error;
        });
        // JSON reads 1e400 as Infinity, and 1e300 is no date either, yet both pass every date
        // check: a token that never expires. A time is one a Date can hold (±8.64e12 s).
        for (const claim of ['exp', 'nbf', 'iat'] as const) {
          const seconds = payload[claim];
          if (seconds !== undefined && !(Math.abs(seconds) <= LATEST_DATE_SECONDS)) throw new JwtRejectedError(`its ${quotedValue(claim)} is not a time any clock reaches`, claim);
        }
        // jose checks "iat" only against a maximum token age: a token said to be issued later than
        // now (past the clock tolerance) comes from a clock that is wrong, or was made to outlive
        // a rotation of the signing key; "nbf" is refused the same way.
        if (payload.iat !== undefined && payload.iat > now().getTime() / 1000 + options.clockToleranceSeconds) {
          throw new JwtRejectedError('it was issued in the future ("iat" is later than now, past the clock tolerance)', 'iat');
        }
        refuseRepeatedNames(token);
        return payload;
      } catch (error) {
        if (error instanceof JwksUnavailableError || error instanceof JwtRejectedError) throw error;
        throw rejection(error, { ...options, algorithms });
      }
    },
  };
}

/**
 * The verified claims. A token that names no `kid` (or a set that publishes one `kid` twice) may
 * match several published keys of its algorithm, as during a rotation, when the provider publishes
 * the old key and the new one: jose then hands back the candidates rather than choosing, and each
 * is tried in turn. The token is accepted only by a key whose signature check passes; one that
 * none of them signed is refused as any bad signature is.
 */
async function verifiedPayload(token: string, key: JWTVerifyGetKey, verifyOptions: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, key, verifyOptions)).payload;
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const candidate of error) {
      try {
        return (await jwtVerify(token, candidate, verifyOptions)).payload;
      } catch (candidateError) {
        // Another key's signature: try the next. Anything else (expired, wrong audience) holds for every key.
        if (!(candidateError instanceof errors.JWSSignatureVerificationFailed)) throw candidateError;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

/**
 * JSON.parse (jose's too) keeps the last of a name given twice, while a gateway or log reader in
 * front may keep the first: {"teams":["direct"],"teams":["direct","partners"]} would be one team
 * there and two here, {"alg":"none","alg":"HS256"} one algorithm there and another here. As in a
 * request body and the keys file, a name given twice is refused, not resolved. Called once the
 * token verified, so both parts are known to be base64url JSON.
 */
function refuseRepeatedNames(token: string): void {
  const [header, payload] = token.split('.', 2).map((part) => Buffer.from(part, 'base64url').toString('utf8'));
  const inHeader = firstRepeatedName(header!);
  if (inHeader !== undefined) throw new JwtRejectedError(`its header gives ${quotedValue(inHeader)} twice; each name must come once`);
  const claim = firstRepeatedName(payload!);
  if (claim !== undefined) throw new JwtRejectedError(`it gives the claim ${quotedValue(claim)} twice; each claim must come once`, claim);
}

function keyFor(options: JwtOptions, jwks: JwksCache | undefined): JWTVerifyGetKey | Uint8Array | ReturnType<typeof createPublicKey> {
  if (jwks) return jwks.getKey;
  if (options.secret !== undefined) return new TextEncoder().encode(options.secret);
  if (options.publicKey !== undefined) return createPublicKey(options.publicKey);
  throw new Error('JWT verification needs JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL');
}

// jose's codes are stable; its messages name the claim ("exp", "iss", "aud", "nbf") at fault.
function rejection(error: unknown, options: JwtOptions): JwtRejectedError {
  const { code, message, claim, reason } = error as { code?: unknown; message?: unknown; claim?: unknown; reason?: unknown };
  const claimName = typeof claim === 'string' ? claim : undefined;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return new JwtRejectedError('it has expired ("exp")', 'exp');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claimName === 'iss' && options.issuer !== undefined) return new JwtRejectedError(`its issuer ("iss") is not ${options.issuer}`, 'iss');
      if (claimName === 'aud' && options.audience !== undefined) return new JwtRejectedError(`its audience ("aud") does not include ${options.audience}`, 'aud');
      // A claim that is there but not what the standard says (a text "nbf"): jose's words say which.
      if (reason === 'invalid') return new JwtRejectedError(String(message), claimName);
      if (claimName === 'nbf') return new JwtRejectedError('it is not valid yet ("nbf")', 'nbf');
      return new JwtRejectedError(String(message), claimName);
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return new JwtRejectedError(`its algorithm is not accepted; this service accepts ${options.algorithms.join(', ')}`);
    case 'ERR_JOSE_NOT_SUPPORTED':
      // An algorithm jose does not know, or a header it must understand and does not ("crit").
      return /\balg(orithm)?\b/i.test(String(message))
        ? new JwtRejectedError(`its algorithm is not accepted; this service accepts ${options.algorithms.join(', ')}`)
        : new JwtRejectedError(`it asks for what this service does not support (${String(message)})`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return new JwtRejectedError('its signature does not verify');
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return new JwtRejectedError('no published signing key matches its "kid" and algorithm');
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return new JwtRejectedError(`it is not a well-formed signed JWT (${String(message)})`);
    default:
      // A key the token points at that cannot be used (too short an RSA key, say) is still the
      // token's problem, not a server fault.
      return new JwtRejectedError('it could not be verified');
  }
}

/**
 * The key set's cache for JWT_JWKS_MAX_AGE_SECONDS. The cooldown (at most one fetch per it,
 * whatever asks) is never longer than the age, or a set older than the age would still serve
 * until the cooldown ended.
 */
function jwksCacheOptions(maxAgeSeconds: number | undefined): typeof JWKS_CACHE_DEFAULTS {
  if (maxAgeSeconds === undefined) return JWKS_CACHE_DEFAULTS;
  const maxAgeMs = maxAgeSeconds * 1000;
  return { ...JWKS_CACHE_DEFAULTS, maxAgeMs, cooldownMs: Math.min(JWKS_CACHE_DEFAULTS.cooldownMs, maxAgeMs) };
}
