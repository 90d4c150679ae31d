import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { firstTextFault, textFault } from './storable-text';

// The reference: what UTF-8 cannot carry back (an unpaired surrogate comes back as U+FFFD), and
// U+0000, which PostgreSQL's text refuses.
const keepable = (text: string) => !text.includes('\u0000') && new TextDecoder().decode(new TextEncoder().encode(text)) === text;

describe('textFault', () => {
  it.each([
    ['a NUL', 'Acme \u0000 deal', /U\+0000 \(at 5\)/],
    ['a lone high surrogate', 'x\ud800', /unpaired UTF-16 surrogate \(at 1\)/],
    ['a lone low surrogate', '\udc00y', /unpaired UTF-16 surrogate \(at 0\)/],
    ['surrogates in the wrong order', '\udc00\ud800', /unpaired UTF-16 surrogate \(at 0\)/],
  ])('refuses %s', (_name, text, reason) => {
    expect(textFault(text)).toMatch(reason);
  });

  it.each(['', 'Acme', 'Ünïcødé — 日本語', 'emoji 😀 and 👩‍👩‍👧', 'tab\tand\nnew line', '\u0001 other controls are kept'])('keeps %j', (text) => {
    expect(textFault(text)).toBeUndefined();
  });

  it('refuses exactly the text UTF-8 cannot carry back, and U+0000', () => {
    const units = fc.oneof(fc.constantFrom('\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '😀', 'a', 'é'), fc.string({ unit: 'binary', maxLength: 3 }));
    assertProperty(
      fc.property(fc.array(units, { maxLength: 8 }).map((parts) => parts.join('')), (text) => {
        expect(textFault(text) === undefined).toBe(keepable(text));
      }),
      { numRuns: 3000 },
    );
  });
});

describe('firstTextFault', () => {
  it('names the field, nested fields by a dotted path, and a key at fault by its parent', () => {
    expect(firstTextFault({ title: 'ok', note: 'bad\u0000' })).toEqual({ field: 'note', reason: expect.stringMatching(/U\+0000/) });
    expect(firstTextFault({ stageMapping: { lead: 'x\ud800' } })).toEqual({ field: 'stageMapping.lead', reason: expect.any(String) });
    expect(firstTextFault({ stageMapping: { 'le\u0000ad': 'x' } })).toEqual({ field: 'stageMapping (a key)', reason: expect.any(String) });
    expect(firstTextFault({ teams: ['a', 'b\u0000'] })).toEqual({ field: 'teams.1', reason: expect.any(String) });
    expect(firstTextFault('\u0000', 'ownerId')).toEqual({ field: 'ownerId', reason: expect.any(String) });
    expect(firstTextFault({ title: 'fine', amount: 3, met: true, nothing: null })).toBeUndefined();
  });

  it('finds a fault wherever it is in any JSON value, and none where there is none', () => {
    assertProperty(
      fc.property(fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }), (value) => {
        const strings: string[] = [];
        const walk = (node: unknown): void => {
          if (typeof node === 'string') strings.push(node);
          else if (node !== null && typeof node === 'object') {
            for (const [key, child] of Object.entries(node)) {
              strings.push(key);
              walk(child);
            }
          }
        };
        walk(value);
        expect(firstTextFault(value) === undefined).toBe(strings.every(keepable));
      }),
      { numRuns: 1000 },
    );
  });
});
