import { INSTANT_RULE } from '@stagecraft/opportunity';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { AsOfParameter, asOfInstantMs, asOfRefusal } from './as-of.refusal';
import { ApiProblem } from './problem';

class AsOfQuery {
  @AsOfParameter('The thing as it stood then')
  asOf?: string;

  @AsOfParameter('The thing as known then', { omittable: true })
  asOfRecorded?: string;
}

/** What a DTO with the decorator says of a value: the message, or undefined when it takes it. */
const validated = (field: 'asOf' | 'asOfRecorded', value: unknown) => validateSync(plainToInstance(AsOfQuery, { [field]: value })).find((error) => error.property === field)?.constraints?.isInstant;

/** What the controllers' read of the value throws, or its milliseconds. */
const read = (value: string): ApiProblem | number => {
  try {
    return asOfInstantMs('asOf', value);
  } catch (error) {
    if (error instanceof ApiProblem) return error;
    throw error;
  }
};

describe('the refusal of an as-of value', () => {
  it.each(['last-march', '', '2026-02-30T10:00:00Z', '2026-03-31T23:59:59', '0000-12-31T00:00:00Z', '2026-01-01T00:00:00+25:00', '2026-01-01T00:00:00 05:30', 'a\u001b[31m\nb'])(
    'is the same words from the DTO and from the controllers, a 400 naming the parameter and the value: %j',
    (value) => {
      const message = asOfRefusal('asOf', value);
      expect(message.startsWith(`asOf must be ${INSTANT_RULE}; got ${JSON.stringify(value)}`)).toBe(true);
      expect(message).not.toMatch(/[\n\u001b]/);
      expect(validated('asOf', value)).toBe(message);
      const refused = read(value);
      expect(refused).toBeInstanceOf(ApiProblem);
      expect(refused).toMatchObject({ status: 400, code: 'REQUEST.VALIDATION_FAILED', extensions: { errors: [{ field: 'asOf', message }] } });
    },
  );

  it('quotes a long value cut short, with its length', () => {
    const message = asOfRefusal('asOfRecorded', '9'.repeat(5000));
    expect(message).toBe(`asOfRecorded must be ${INSTANT_RULE}; got "${'9'.repeat(63)}…" (5000 characters)`);
    expect(validated('asOfRecorded', '9'.repeat(5000))).toBe(message);
  });

  it('says what a value that is no text is, and judges an omittable parameter given as null', () => {
    expect(validated('asOf', 5)).toBe(`asOf must be ${INSTANT_RULE}; got a number`);
    expect(validated('asOfRecorded', null)).toBe(`asOfRecorded must be ${INSTANT_RULE}; got null`);
    // IsOptional lets null through where a route says so (the analytics DTOs): nothing to judge.
    expect(validated('asOf', null)).toBeUndefined();
  });

  it('reads an instant the DTO takes, to the millisecond, whatever its offset', () => {
    expect(read('2026-03-31T23:59:59Z')).toBe(Date.UTC(2026, 2, 31, 23, 59, 59));
    expect(read('2026-04-01T05:29:59.000+05:30')).toBe(Date.UTC(2026, 2, 31, 23, 59, 59));
    expect(validated('asOf', '2026-04-01T05:29:59.000+05:30')).toBeUndefined();
  });
});
