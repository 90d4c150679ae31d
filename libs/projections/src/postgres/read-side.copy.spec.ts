import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { copyOf } from './read-side.copy';

// copyOf encodes each line into a growing buffer as it goes: its bytes must be those of the lines
// joined and encoded at once, whatever the text (any UTF-16 unit, lone surrogates included, which
// both write as U+FFFD) and however often the buffer grows on the way.
const unit = fc.oneof(
  fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)),
  fc.constantFrom('a', '\t', '\n', '\\', 'é', '€', '😀', '\ud800', '\udfff'),
);
const line = fc.string({ unit, maxLength: 40 });
const longLine = fc.string({ unit, minLength: 2_000, maxLength: 6_000 });

describe('copyOf (read-side.copy.ts)', () => {
  it('writes the same bytes as its lines joined by newlines, each ended by one, then encoded as UTF-8', () => {
    assertProperty(
      fc.property(fc.array(fc.oneof({ weight: 9, arbitrary: line }, { weight: 1, arbitrary: longLine }), { maxLength: 60 }), (lines) => {
        const { sql, data } = copyOf('t', 'a', lines, (text) => text);
        expect(sql).toBe('COPY t (a) FROM STDIN');
        expect(Buffer.compare(data, Buffer.from(lines.map((text) => `${text}\n`).join('')))).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('writes nothing for no rows', () => {
    expect(copyOf('t', 'a', [], String).data.length).toBe(0);
  });
});
