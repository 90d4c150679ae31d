import { CLOSED_DEFAULT_DAYS, CLOSED_DEFAULT_LIMIT, closedWindowOf, waterfallPeriodOf } from './pipeline.policy';

describe('the closed window a pipeline query stands for', () => {
  const now = new Date('2026-03-31T12:00:00.000Z');

  it('defaults to the 30 days up to now and 50 cards', () => {
    expect([CLOSED_DEFAULT_DAYS, CLOSED_DEFAULT_LIMIT]).toEqual([30, 50]);
    expect(closedWindowOf({}, now)).toEqual({ from: '2026-03-01T12:00:00.000Z', to: '2026-03-31T12:00:00.000Z', limit: 50 });
  });

  it('counts the default start back from a given end, and keeps what was given', () => {
    expect(closedWindowOf({ to: '2026-02-01T00:00:00+01:00' }, now)).toEqual({ from: '2026-01-01T23:00:00.000Z', to: '2026-01-31T23:00:00.000Z', limit: 50 });
    expect(closedWindowOf({ from: '2026-01-01T00:00:00Z', limit: 3 }, now)).toEqual({ from: '2026-01-01T00:00:00.000Z', to: '2026-03-31T12:00:00.000Z', limit: 3 });
  });
});

describe('the waterfall and velocity window a query stands for', () => {
  const now = new Date('2026-03-31T12:00:00.000Z');

  it('defaults to the 7 days up to now, or up to a given end', () => {
    expect(waterfallPeriodOf({}, now)).toEqual({ fromMs: Date.parse('2026-03-24T12:00:00.000Z'), toMs: now.getTime() });
    expect(waterfallPeriodOf({ to: '2026-02-01T00:00:00Z' }, now)).toEqual({ fromMs: Date.parse('2026-01-25T00:00:00.000Z'), toMs: Date.parse('2026-02-01T00:00:00.000Z') });
  });

  it('never starts the default window before year 0001, which the answer could not echo as an instant a route takes', () => {
    const { fromMs } = waterfallPeriodOf({ to: '0001-01-03T00:00:00Z' }, now);
    expect(new Date(fromMs).toISOString()).toBe('0001-01-01T00:00:00.000Z');
  });
});
