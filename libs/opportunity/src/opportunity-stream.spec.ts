import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { canonicalOpportunityId, toOpportunityStreamId } from './opportunity-stream';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The definition: a UUID in any case is the same id in lower case; anything else is left as it is. */
const byDefinition = (id: string) => (UUID.test(id) ? id.toLowerCase() : id);

describe('canonicalOpportunityId', () => {
  it.each([
    ['6F1C2A3B-4D5E-4F60-8A7B-9C0D1E2F3A4B', '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b'],
    ['6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b'],
    ['bench', 'bench'],
    ['6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4', '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4'],
  ])('reads %s as %s', (given, canonical) => {
    expect(canonicalOpportunityId(given)).toBe(canonical);
    expect(toOpportunityStreamId(given)).toBe(`opportunity-${canonical}`);
  });

  // Lower-case UUIDs take a short way: every id must still come out as the definition says.
  it('is the lower-case UUID for a UUID in any case, and the text itself otherwise', () => {
    const char = fc.constantFrom(...'0123456789abcdefABCDEFg-/:`G'.split(''));
    const shaped = fc.array(char, { minLength: 36, maxLength: 36 }).map((chars) => chars.join(''));
    const dashed = fc.array(fc.constantFrom(...'0123456789abcdefABCDEF/:`g'.split('')), { minLength: 36, maxLength: 36 }).map((chars) => chars.map((c, i) => ([8, 13, 18, 23].includes(i) ? '-' : c)).join(''));
    assertProperty(
      fc.property(fc.oneof(fc.uuid(), fc.uuid().map((id) => id.toUpperCase()), shaped, dashed, fc.string()), (id) => {
        expect(canonicalOpportunityId(id)).toBe(byDefinition(id));
      }),
      { numRuns: 3000 },
    );
  });
});
