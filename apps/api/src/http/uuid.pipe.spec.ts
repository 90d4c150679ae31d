import { ParseUUIDPipe } from '@nestjs/common';
import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { UuidPipe } from './uuid.pipe';

class Refused extends Error {}
const factory = (reason: string) => new Refused(reason);
const metadata = { type: 'param', data: 'id' } as const;

/** What Nest's own pipe answers: the value, or the factory's error. */
async function nestAnswer(value: unknown): Promise<unknown> {
  try {
    return await new ParseUUIDPipe({ exceptionFactory: factory }).transform(value, metadata);
  } catch (error) {
    return error;
  }
}

function syncAnswer(value: unknown): unknown {
  try {
    return new UuidPipe(factory).transform(value);
  } catch (error) {
    return error;
  }
}

describe('UuidPipe', () => {
  it.each(['6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', '6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B', '00000000-0000-0000-0000-000000000000'])('takes %s at once, as it is', (id) => {
    expect(new UuidPipe(factory).transform(id)).toBe(id);
  });

  it.each(['not-a-uuid', '', '6f1c2a3b-4d5e-0f60-8a7b-9c0d1e2f3a4b', 42, undefined])('refuses %p with the factory error, as ParseUUIDPipe does', async (value) => {
    const answer = syncAnswer(value);
    expect(answer).toBeInstanceOf(Refused);
    expect(answer).toEqual(await nestAnswer(value));
    expect((answer as Error).message).toBe(((await nestAnswer(value)) as Error).message);
  });

  it('answers every string as ParseUUIDPipe does', async () => {
    const hex = fc.constantFrom(...'0123456789abcdefABCDEFgx-'.split(''));
    const shaped = fc.array(hex, { minLength: 36, maxLength: 36 }).map((chars) => chars.map((c, i) => ([8, 13, 18, 23].includes(i) ? '-' : c)).join(''));
    await assertProperty(
      fc.asyncProperty(fc.oneof(fc.uuid(), shaped, fc.string()), async (value) => {
        expect(syncAnswer(value)).toEqual(await nestAnswer(value));
      }),
      { numRuns: 2000 },
    );
  });
});
