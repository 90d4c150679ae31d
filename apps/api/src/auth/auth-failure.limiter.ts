import type { Clock } from '../settings/api-settings.token';

/**
 * Counts failed authentications per client address over a sliding minute. Past the limit, the
 * address is told to wait (Retry-After) before its credentials are even looked at, so guessing
 * keys or token secrets costs a minute per `limit` guesses. Kept in memory, per instance.
 */
export class AuthFailureLimiter {
  // Insertion order is recency order: the least recently failing address is evicted first.
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit: number,
    private readonly clock: Clock,
    private readonly windowMs = 60_000,
    private readonly maxAddresses = 50_000,
  ) {}

  get enabled(): boolean {
    return this.limit > 0;
  }

  /** Whole seconds this address must wait before trying again; 0 when it may try now. */
  retryAfterSeconds(address: string): number {
    if (!this.enabled) return 0;
    const now = this.clock().getTime();
    const recent = this.recent(address, now);
    if (recent.length < this.limit) return 0;
    return Math.max(1, Math.ceil((recent[recent.length - this.limit]! + this.windowMs - now) / 1000));
  }

  recordFailure(address: string): void {
    if (!this.enabled) return;
    const now = this.clock().getTime();
    const recent = [...this.recent(address, now), now].slice(-this.limit);
    this.failures.delete(address);
    this.failures.set(address, recent);
    if (this.failures.size > this.maxAddresses) this.failures.delete(this.failures.keys().next().value!);
  }

  private recent(address: string, now: number): number[] {
    const times = this.failures.get(address);
    if (!times) return [];
    const recent = times.filter((time) => time > now - this.windowMs && time <= now);
    if (recent.length === 0) this.failures.delete(address);
    return recent;
  }
}
