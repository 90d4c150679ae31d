import { parseInstant } from './instant';

describe('parseInstant', () => {
  it('reads ISO 8601 instants with a zone', () => {
    expect(parseInstant('2026-03-31T23:59:59Z')).toBe(Date.UTC(2026, 2, 31, 23, 59, 59));
    expect(parseInstant('2024-02-29T10:00+02:00')).toBe(Date.UTC(2024, 1, 29, 8, 0));
    expect(parseInstant('2026-01-01T00:00:00.123456Z')).toBe(Date.UTC(2026, 0, 1, 0, 0, 0, 123));
  });

  it.each(['2026-02-30T00:00Z', '2026-02-29T00:00Z', '2100-02-29T00:00Z', '2026-04-31T00:00Z', '2026-13-01T00:00Z', '2026-00-10T00:00Z', '2026-01-01T24:00Z', '2026-01-01T10:60Z', '2026-01-01T10:00:60Z', '2026-01-01T10:00', '2026-01-01', 'soon'])(
    'refuses %s: not a real instant with a zone',
    (text) => {
      expect(parseInstant(text)).toBeUndefined();
    },
  );
});
