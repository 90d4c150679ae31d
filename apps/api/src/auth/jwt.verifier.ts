import { createHmac, createPublicKey, timingSafeEqual, verify as verifySignature, type KeyObject } from 'node:crypto';

export interface JwtOptions {
  /** Shared secret for HS256 tokens. */
  readonly secret?: string;
  /** PEM public key for RS256 (RSA) or ES256 (P-256) tokens. */
  readonly publicKey?: string;
  readonly issuer?: string;
  readonly audience?: string;
  /** Seconds of clock difference tolerated on exp and nbf. */
  readonly clockToleranceSeconds?: number;
}

export interface JwtClaims {
  readonly sub: string;
  readonly [claim: string]: unknown;
}

/** A token that is not acceptable; `reason` is safe to show the caller. */
export class JwtRejectedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'JwtRejectedError';
  }
}

/** Verifies compact JWS tokens with one configured key; the algorithm is fixed by that key. */
export function createJwtVerifier(options: JwtOptions, now: () => Date): (token: string) => JwtClaims {
  const key = keyFor(options);
  const tolerance = options.clockToleranceSeconds ?? 30;

  return (token) => {
    const parts = token.split('.');
    if (parts.length !== 3) throw new JwtRejectedError('not a JWT (expected three dot-separated parts)');
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    const header = decodeJson(headerPart, 'header');
    // The key decides the algorithm: a token may never choose "none" or switch HS/RS families.
    if (header.alg !== key.alg) throw new JwtRejectedError(`algorithm ${String(header.alg)} is not accepted; this service expects ${key.alg}`);
    if (!key.verify(`${headerPart}.${payloadPart}`, Buffer.from(signaturePart, 'base64url'))) throw new JwtRejectedError('signature does not verify');

    const claims = decodeJson(payloadPart, 'payload');
    const nowSeconds = now().getTime() / 1000;
    if (typeof claims.exp !== 'number') throw new JwtRejectedError('exp (expiry) is required');
    if (nowSeconds > claims.exp + tolerance) throw new JwtRejectedError('token has expired');
    if (typeof claims.nbf === 'number' && nowSeconds + tolerance < claims.nbf) throw new JwtRejectedError('token is not valid yet');
    if (options.issuer !== undefined && claims.iss !== options.issuer) throw new JwtRejectedError('issuer does not match');
    if (options.audience !== undefined) {
      const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!audiences.includes(options.audience)) throw new JwtRejectedError('audience does not match');
    }
    if (typeof claims.sub !== 'string' || claims.sub.length === 0) throw new JwtRejectedError('sub (the caller\'s name) is required');
    return claims as JwtClaims;
  };
}

interface VerificationKey {
  readonly alg: 'HS256' | 'RS256' | 'ES256';
  verify(signingInput: string, signature: Buffer): boolean;
}

function keyFor(options: JwtOptions): VerificationKey {
  if (options.secret !== undefined) {
    const secret = options.secret;
    return {
      alg: 'HS256',
      verify: (input, signature) => {
        const expected = createHmac('sha256', secret).update(input).digest();
        return expected.length === signature.length && timingSafeEqual(expected, signature);
      },
    };
  }
  if (options.publicKey !== undefined) {
    const publicKey: KeyObject = createPublicKey(options.publicKey);
    if (publicKey.asymmetricKeyType === 'rsa') {
      return { alg: 'RS256', verify: (input, signature) => verifySignature('sha256', Buffer.from(input), publicKey, signature) };
    }
    if (publicKey.asymmetricKeyType === 'ec') {
      return { alg: 'ES256', verify: (input, signature) => verifySignature('sha256', Buffer.from(input), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature) };
    }
    throw new Error(`JWT public key of type ${publicKey.asymmetricKeyType} is not supported; use RSA or P-256`);
  }
  throw new Error('JWT verification needs a secret or a public key');
}

function decodeJson(part: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new JwtRejectedError(`the ${what} is not base64url-encoded JSON`);
}
