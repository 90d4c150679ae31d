import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { FIRST_INSTANT_MS, instantIsAfter, isoTextOf, LAST_INSTANT_MS, parseInstant, parseInstantByPattern, parseLowerBound, storedInstant } from './instant';

describe('parseInstant', () => {
  it('reads ISO 8601 instants with a zone', () => {
    expect(parseInstant('2026-03-31T23:59:59Z')).toBe(Date.UTC(2026, 2, 31, 23, 59, 59));
    expect(parseInstant('2024-02-29T10:00+02:00')).toBe(Date.UTC(2024, 1, 29, 8, 0));
    expect(parseInstant('2026-01-01T00:00:00.123456Z')).toBe(Date.UTC(2026, 0, 1, 0, 0, 0, 123));
    expect(parseInstant('2024-02-29T23:59:59.999Z')).toBe(Date.UTC(2024, 1, 29, 23, 59, 59, 999));
    expect(parseInstant('0050-06-01T00:00:00.000Z')).toBe(Date.parse('0050-06-01T00:00:00.000Z'));
  });

  it.each(['2026-02-30T00:00Z', '2026-02-29T00:00Z', '2100-02-29T00:00Z', '2026-04-31T00:00Z', '2026-13-01T00:00Z', '2026-00-10T00:00Z', '2026-01-01T24:00Z', '2026-01-01T10:60Z', '2026-01-01T10:00:60Z', '2026-01-01T10:00', '2026-01-01', 'soon'])(
    'refuses %s: not a real instant with a zone',
    (text) => {
      expect(parseInstant(text)).toBeUndefined();
    },
  );

  it.each(['2026-02-30T00:00:00.000Z', '2100-02-29T12:00:00.000Z', '2026-01-01T24:00:00.000Z', '2026-01-01T10:00:60.000Z', '2026-01-01T10:00:00.0a0Z', '2026-01-01T10:00:00.000z', '2026-01-01 10:00:00.000Z'])(
    'refuses %s in the form toISOString writes, as the general reading does',
    (text) => {
      expect(parseInstant(text)).toBeUndefined();
      expect(parseInstantByPattern(text)).toBeUndefined();
    },
  );

  // Outside years 0001–9999 (in UTC) toISOString writes `0000-…` or `+010000-…`: PostgreSQL's
  // timestamptz refuses those texts and this parser would not read them back.
  it.each(['0000-01-01T00:00:00Z', '0000-12-31T23:59:59.999Z', '0001-01-01T00:00:00+01:00', '0001-01-01T00:30:00+00:31', '9999-12-31T23:59:59-14:00', '9999-12-31T23:00:00-01:00'])(
    'refuses %s: outside years 0001–9999 once read in UTC',
    (text) => {
      expect(parseInstant(text)).toBeUndefined();
    },
  );

  it('takes the first and the last millisecond of years 0001–9999, and their text reads back', () => {
    expect(parseInstant('0001-01-01T00:00:00Z')).toBe(FIRST_INSTANT_MS);
    expect(parseInstant('0001-01-01T01:00:00+01:00')).toBe(FIRST_INSTANT_MS);
    expect(parseInstant('9999-12-31T23:59:59.999Z')).toBe(LAST_INSTANT_MS);
    expect(parseInstant('10000-01-01T00:00:00Z')).toBeUndefined();
    // After the last millisecond, though still in year 9999: no whole millisecond is at or after it.
    expect(parseInstant('9999-12-31T23:59:59.9995Z')).toBeUndefined();
    expect(parseInstant('9999-12-31T23:59:59.999000000Z')).toBe(LAST_INSTANT_MS);
    expect(new Date(FIRST_INSTANT_MS).toISOString()).toBe('0001-01-01T00:00:00.000Z');
    expect(new Date(LAST_INSTANT_MS).toISOString()).toBe('9999-12-31T23:59:59.999Z');
  });

  it('reads back the text of every instant it takes, whatever the offset it was given with', () => {
    const offsets = fc.integer({ min: -14 * 60, max: 14 * 60 }).map((minutes) => `${minutes < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(minutes) / 60), 2)}:${pad(Math.abs(minutes) % 60, 2)}`);
    const near = (edge: string) => fc.integer({ min: -20 * 3_600_000, max: 20 * 3_600_000 }).map((delta) => Date.parse(edge) + delta);
    const instants = fc.oneof(near('0001-01-01T00:00:00Z'), near('9999-12-31T23:59:59.999Z'), fc.integer({ min: FIRST_INSTANT_MS, max: LAST_INSTANT_MS }));
    assertProperty(
      fc.property(instants, offsets, (utcMs, offset) => {
        // The wall-clock text of utcMs at that offset (its year may be 0000 or 10000: then refused).
        const minutes = (offset.startsWith('-') ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
        const wall = new Date(utcMs + minutes * 60_000).toISOString();
        if (!/^\d{4}-/.test(wall)) return;
        const text = `${wall.slice(0, 23)}${offset}`;
        const ms = parseInstant(text);
        if (utcMs < FIRST_INSTANT_MS || utcMs > LAST_INSTANT_MS) {
          expect(ms).toBeUndefined();
        } else {
          expect(ms).toBe(utcMs);
          expect(parseInstant(new Date(ms!).toISOString())).toBe(ms);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a time stored before instants were bounded, which parseInstant refuses', () => {
    expect(storedInstant('-000001-12-31T23:00:00.000Z')).toBe(Date.parse('-000001-12-31T23:00:00.000Z'));
    expect(storedInstant('2026-03-31T23:59:59.000Z')).toBe(Date.UTC(2026, 2, 31, 23, 59, 59));
  });

  // The form toISOString writes is read by hand (no pattern, no Date.parse): on every text of that
  // shape, real dates or not, digits or not, it must answer what the general reading answers.
  it('reads every text shaped as toISOString writes exactly as the general reading does', () => {
    const digits = (length: number) => fc.array(fc.constantFrom(...'0123456789'.split(''), 'a', '/', ':'), { minLength: length, maxLength: length }).map((chars) => chars.join(''));
    const plausible = fc.tuple(fc.integer({ min: 0, max: 9999 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }), fc.integer({ min: 0, max: 24 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 999 }))
      .map(([y, mo, d, h, mi, s, ms]) => `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)}T${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(ms, 3)}Z`);
    const anyChars = fc.tuple(digits(4), digits(2), digits(2), digits(2), digits(2), digits(2), digits(3), fc.constantFrom('Z', 'z', '+'))
      .map(([y, mo, d, h, mi, s, ms, zone]) => `${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${zone}`);
    const real = fc.date({ min: new Date('0100-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }).map((date) => date.toISOString());
    assertProperty(
      fc.property(fc.oneof(plausible, anyChars, real), (text) => {
        expect(parseInstant(text)).toBe(parseInstantByPattern(text));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('isoTextOf', () => {
  // Deciding stamps each event with the text toISOString writes for its instant; a server time
  // already in that form is used as it is instead of written again. Always the same text.
  it('is the text toISOString writes for the instant read, whatever form it was read from', () => {
    const forms = fc.oneof(
      fc.date({ min: new Date('0001-01-01T00:00:00.000Z'), max: new Date('9999-12-31T23:59:59.999Z'), noInvalidDate: true }).map((date) => date.toISOString()),
      fc.date({ min: new Date('2000-01-01T00:00:00.000Z'), max: new Date('2100-01-01T00:00:00.000Z'), noInvalidDate: true }).map((date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z')),
      fc.date({ min: new Date('2000-01-01T00:00:00.000Z'), max: new Date('2100-01-01T00:00:00.000Z'), noInvalidDate: true }).map((date) => date.toISOString().replace('Z', '+00:00')),
    );
    assertProperty(
      fc.property(forms, (text) => {
        const ms = parseInstant(text)!;
        expect(isoTextOf(text, ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 2000 },
    );
  });

  it('answers the given text itself when it is in that form', () => {
    const text = '2026-03-02T10:00:00.000Z';
    expect(isoTextOf(text, parseInstant(text)!)).toBe(text);
    expect(isoTextOf('2026-03-02T10:00:00Z', parseInstant(text)!)).toBe(text);
  });
});

const pad = (value: number, width: number) => String(value).padStart(width, '0');

describe('parseLowerBound', () => {
  it('is the first whole millisecond at or after the instant, whatever its offset', () => {
    const midnight = Date.UTC(2026, 0, 1);
    expect(parseLowerBound('2026-01-01T00:00:00Z')).toBe(midnight);
    expect(parseLowerBound('2026-01-01T00:00:00.000000000Z')).toBe(midnight);
    expect(parseLowerBound('2026-01-01T00:00:00.0005Z')).toBe(midnight + 1);
    expect(parseLowerBound('2026-01-01T00:00:00.000000001Z')).toBe(midnight + 1);
    expect(parseLowerBound('2026-01-01T05:30:00.0009+05:30')).toBe(midnight + 1);
    expect(parseLowerBound('2025-12-31T23:59:59.9991Z')).toBe(midnight);
    expect(parseLowerBound('0001-01-01T00:00:00.0001Z')).toBe(FIRST_INSTANT_MS + 1);
    expect(parseLowerBound('2026-01-01')).toBeUndefined();
  });

  it('takes in exactly the whole milliseconds at or after the instant (property)', () => {
    const texts = fc.tuple(fc.integer({ min: FIRST_INSTANT_MS, max: LAST_INSTANT_MS - 1 }), fc.integer({ min: 0, max: 999_999 }));
    assertProperty(
      fc.property(texts, ([ms, nanos]) => {
        const text = `${new Date(ms).toISOString().slice(0, 23)}${pad(nanos, 6)}Z`;
        const bound = parseLowerBound(text)!;
        // ms + nanos/10^6 ≤ bound, and bound − 1 is before the instant.
        expect(bound).toBe(nanos === 0 ? ms : ms + 1);
        expect(parseInstant(text)).toBe(ms);
      }),
    );
  });
});

describe('instantIsAfter', () => {
  it('orders instants by every digit given, not by the milliseconds they fall in', () => {
    expect(instantIsAfter('2026-01-01T00:00:00.0005Z', '2026-01-01T00:00:00.0001Z')).toBe(true);
    expect(instantIsAfter('2026-01-01T00:00:00.0001Z', '2026-01-01T00:00:00.0005Z')).toBe(false);
    expect(instantIsAfter('2026-01-01T00:00:00.00050Z', '2026-01-01T00:00:00.0005Z')).toBe(false);
    expect(instantIsAfter('2026-01-01T05:30:00.0005+05:30', '2026-01-01T00:00:00.0004Z')).toBe(true);
    expect(instantIsAfter('2026-01-01T00:00:00.001Z', '2026-01-01T00:00:00.0009999Z')).toBe(true);
    expect(instantIsAfter('2026-01-01T00:00Z', '2026-01-01T00:00:00.000Z')).toBe(false);
  });
});
