import { createLocalJWKSet, type FlattenedJWSInput, type JWSHeaderParameters, type JWTVerifyGetKey } from 'jose';

/** No key set could be fetched from JWT_JWKS_URL yet: not the caller's fault, so a 503. */
export class JwksUnavailableError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'JwksUnavailableError';
  }
}

export interface JwksCacheOptions {
  /** A set older than this is fetched again (the old one serves while that fails). */
  readonly maxAgeMs: number;
  /** At most one fetch per cooldown, whatever asks for it: unknown kids, an old set, failures. */
  readonly cooldownMs: number;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

export const JWKS_CACHE_DEFAULTS: JwksCacheOptions = { maxAgeMs: 60_000, cooldownMs: 30_000, timeoutMs: 5_000, maxBytes: 512 * 1024 };

type LocalKeySet = ReturnType<typeof createLocalJWKSet>;

/**
 * The signing keys an identity provider publishes, cached. A token whose kid is not in the set
 * fetches it again (that is how rotation reaches us), as does a token that no cached key verifies
 * (`refreshedSince`: no kid, or a kid reused for a new key), but never more than once per cooldown, so a
 * flood of made-up kids cannot turn this service into a load generator against the provider. When
 * a fetch fails the last good set keeps serving.
 */
export class JwksCache {
  private keys?: LocalKeySet;
  private fetched = 0;
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private attemptedAt = Number.NEGATIVE_INFINITY;
  private pending?: Promise<void>;

  constructor(
    private readonly url: URL,
    private readonly now: () => number,
    private readonly warn: (message: string) => void,
    private readonly options: JwksCacheOptions = JWKS_CACHE_DEFAULTS,
  ) {}

  /** Fetches the set ahead of the first token; failures are only logged. */
  prefetch(): Promise<void> {
    return this.refresh();
  }

  /** A jose key resolver: the published key for the token's kid and algorithm. */
  readonly getKey: JWTVerifyGetKey = async (header: JWSHeaderParameters, token: FlattenedJWSInput) => {
    if (!this.keys || this.now() - this.fetchedAt >= this.options.maxAgeMs) await this.refresh();
    const keys = this.keys;
    if (!keys) throw new JwksUnavailableError(`the signing keys could not be fetched from ${this.url.origin} yet`);
    try {
      return await keys(header, token);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ERR_JWKS_NO_MATCHING_KEY' || !this.mayFetch()) throw error;
      await this.refresh();
      return await (this.keys ?? keys)(header, token);
    }
  };

  /** How many sets were fetched so far: read before a verification, it tells whether the set changed since. */
  get generation(): number {
    return this.fetched;
  }

  /**
   * A token that no cached key of its algorithm verifies (no kid, or a kid the provider reused for
   * a new key) may be signed by a key the provider has just rotated in, which only a fetch can
   * tell; it may as well be forged. So it
   * fetches as an unknown kid does, under the same cooldown (a flood of such tokens costs the
   * provider one fetch per cooldown). True when the set is newer than the one `seen` (fetched now,
   * or by another request meanwhile): only then is a second verification worth it.
   */
  async refreshedSince(seen: number): Promise<boolean> {
    if (this.fetched === seen) await this.refresh();
    return this.fetched !== seen;
  }

  private mayFetch(): boolean {
    return this.now() - this.attemptedAt >= this.options.cooldownMs;
  }

  private refresh(): Promise<void> {
    if (this.pending) return this.pending;
    if (!this.mayFetch()) return Promise.resolve();
    this.attemptedAt = this.now();
    this.pending = this.fetchSet()
      .then((keys) => {
        this.keys = keys;
        this.fetched += 1;
        this.fetchedAt = this.now();
      })
      .catch((error: Error) => this.warn(`Could not fetch the JWT signing keys from ${this.url.href} (${error.message}); ${this.keys ? 'keeping the keys fetched before' : 'tokens cannot be verified until it works'}.`))
      .finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetchSet(): Promise<LocalKeySet> {
    // No redirects: the set comes from the address configured, not wherever that points.
    const response = await fetch(this.url, {
      redirect: 'manual',
      signal: AbortSignal.timeout(this.options.timeoutMs),
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new Error(`HTTP ${response.status}`);
    }
    const text = await readLimited(response, this.options.maxBytes);
    let set: unknown;
    try {
      set = JSON.parse(text);
    } catch {
      throw new Error('the answer is not JSON');
    }
    // createLocalJWKSet refuses anything that is not { keys: [ … ] }.
    return createLocalJWKSet(set as Parameters<typeof createLocalJWKSet>[0]);
  }
}

async function readLimited(response: Response, maxBytes: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new Error(`the key set is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
