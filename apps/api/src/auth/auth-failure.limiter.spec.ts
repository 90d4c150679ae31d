import { AuthFailureLimiter } from './auth-failure.limiter';

describe('AuthFailureLimiter', () => {
  const start = Date.parse('2026-03-01T10:00:00Z');
  let now = start;
  const clock = () => new Date(now);
  beforeEach(() => (now = start));

  it('lets an address fail `limit` times in a minute, then asks it to wait until the oldest failure leaves the window', () => {
    const limiter = new AuthFailureLimiter(3, clock);
    for (let i = 0; i < 3; i += 1) {
      expect(limiter.retryAfterSeconds('a')).toBe(0);
      limiter.recordFailure('a');
      now += 10_000;
    }
    // Failures at 0 s, 10 s, 20 s; now 30 s: the first leaves the window at 60 s.
    expect(limiter.retryAfterSeconds('a')).toBe(30);
    expect(limiter.retryAfterSeconds('b')).toBe(0);
    now = start + 60_001;
    expect(limiter.retryAfterSeconds('a')).toBe(0);
  });

  it('never answers less than one second while limited', () => {
    const limiter = new AuthFailureLimiter(1, clock);
    limiter.recordFailure('a');
    now += 59_999;
    expect(limiter.retryAfterSeconds('a')).toBe(1);
  });

  it('keeps a bounded number of addresses, forgetting the least recently failing one', () => {
    const limiter = new AuthFailureLimiter(1, clock, 60_000, 2);
    limiter.recordFailure('a');
    limiter.recordFailure('b');
    limiter.recordFailure('a');
    limiter.recordFailure('c');
    expect(limiter.retryAfterSeconds('a')).toBeGreaterThan(0);
    expect(limiter.retryAfterSeconds('b')).toBe(0);
    expect(limiter.retryAfterSeconds('c')).toBeGreaterThan(0);
  });

  it('does nothing with a limit of 0', () => {
    const limiter = new AuthFailureLimiter(0, clock);
    for (let i = 0; i < 100; i += 1) limiter.recordFailure('a');
    expect(limiter.retryAfterSeconds('a')).toBe(0);
  });
});
