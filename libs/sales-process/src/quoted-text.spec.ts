import { escapeUnseen, QUOTED_MAX, quotedValue } from './quoted-text';

describe('quotedValue: a value quoted back in a message reads as sent, on one line', () => {
  it.each([
    ['an escape sequence', '\u001b[31mred', '"\\u001b[31mred"'],
    ['a line break', 'a\r\nb', '"a\\r\\nb"'],
    ['a right-to-left override', 'abc\u202edef', '"abc\\u202edef"'],
    ['an isolate', '\u2066x\u2069', '"\\u2066x\\u2069"'],
    ['a next line (U+0085)', 'a\u0085b', '"a\\u0085b"'],
    ['a line separator', 'a\u2028b\u2029', '"a\\u2028b\\u2029"'],
    ['a zero-width space and a direction mark', 'a\u200bb\u200f', '"a\\u200bb\\u200f"'],
    ['a lone surrogate', 'a\ud800', '"a\\ud800"'],
    ['quotes and backslashes', 'say "\\x"', '"say \\"\\\\x\\""'],
    ['plain letters and accents', 'Café 42', '"Café 42"'],
  ])('%s', (_, value, expected) => {
    expect(quotedValue(value)).toBe(expected);
  });

  it('cuts a long value, saying how long it was', () => {
    const long = `${'x'.repeat(200)}\u202e`;
    expect(quotedValue(long)).toBe(`"${'x'.repeat(QUOTED_MAX - 1)}…" (201 characters)`);
  });

  it('does not cut inside a surrogate pair', () => {
    const value = `${'x'.repeat(QUOTED_MAX - 2)}😀${'y'.repeat(10)}`;
    expect(quotedValue(value)).toBe(`"${'x'.repeat(QUOTED_MAX - 2)}…" (${value.length} characters)`);
  });

  it('writes anything else as its JSON text, escaped the same way', () => {
    expect(quotedValue({ a: '\u202e' })).toBe('{"a":"\\u202e"}');
    expect(quotedValue(3)).toBe('3');
    expect(quotedValue(undefined)).toBe('undefined');
  });
});

describe('escapeUnseen', () => {
  it('leaves visible text alone and escapes each character that acts on a reader', () => {
    expect(escapeUnseen('ok\tthen\u001b]0;title\u0007')).toBe('ok\\tthen\\u001b]0;title\\u0007');
  });

  it('keeps, on request, the format characters that are part of the text: joiners, the soft hyphen, a flag\'s tags', () => {
    const persian = 'می\u200cخواهم'; // ZWNJ inside a Persian word
    const family = '👩\u200d👩\u200d👧'; // one emoji, joined
    const scotland = '🏴\udb40\udc67\udb40\udc62\udb40\udc73\udb40\udc63\udb40\udc74\udb40\udc7f';
    const shy = 'Zusammen\u00adarbeit';
    for (const text of [persian, family, scotland, shy]) {
      expect(escapeUnseen(text, { keepPartsOfText: true })).toBe(text);
      expect(escapeUnseen(text)).not.toBe(text); // quoted back in a message, escaped with the rest
    }
    // What reorders or hides is escaped all the same.
    expect(escapeUnseen('a\u202eb\u200bc\u2066', { keepPartsOfText: true })).toBe('a\\u202eb\\u200bc\\u2066');
  });
});
