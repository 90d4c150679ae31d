/**
 * Characters that act on a reader rather than show as themselves: controls (ESC starts the sequences
 * that recolour a terminal or move its cursor; a line break, U+0085 among them, starts a line the
 * reader takes for the program's own), line and paragraph separators, format characters (the
 * bidirectional embeddings, overrides and isolates, which reorder what follows on the line; the
 * zero-width ones and direction marks, which hide) and lone surrogates (no character at all).
 */
const ACTS_ON_READER = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/gu;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** The most of a value a message quotes by default: enough to find it, bounded whatever was sent. */
export const QUOTED_MAX = 64;

/**
 * Text as a log line, a terminal or a problem detail should show it: each character that would act
 * on the reader written as its escape (\n, \u001b, \u202e; one \uXXXX per UTF-16 unit, as JSON
 * writes them), everything else as it is.
 */
export function escapeUnseen(text: string, options: { readonly keepPartsOfText?: boolean } = {}): string {
  return text.replace(ACTS_ON_READER, (character) => (options.keepPartsOfText && isPartOfText(character) ? character : (NAMED[character] ?? [...character].map(unitEscape).join(''))));
}

/**
 * Format characters that belong to the text they sit in rather than act on its reader: the
 * joiners (ZWNJ and ZWJ, which Persian and the Indic scripts write words with, and which join
 * emoji into one), the soft hyphen, and the tag characters of subdivision flags (🏴 + tags).
 * Recorded text a program shows (a title, a note) keeps them (`keepPartsOfText`); a value quoted
 * back in a message escapes them with the rest.
 */
function isPartOfText(character: string): boolean {
  const code = character.codePointAt(0)!;
  return code === 0x00ad || code === 0x200c || code === 0x200d || (code >= 0xe0020 && code <= 0xe007f);
}

function unitEscape(character: string): string {
  let out = '';
  for (let i = 0; i < character.length; i += 1) out += `\\u${character.charCodeAt(i).toString(16).padStart(4, '0')}`;
  return out;
}

/**
 * A value a client or an operator gave, as a message quotes it back: a string in double quotes,
 * with `"` and `\` escaped as JSON escapes them and each character that acts on a reader escaped
 * (escapeUnseen), so the message stays one line that reads as it was sent; one longer than `max`
 * characters cut, saying how long it was. Anything else as its JSON text, escaped the same way.
 */
export function quotedValue(value: unknown, max = QUOTED_MAX): string {
  if (typeof value !== 'string') return escapeUnseen(JSON.stringify(value) ?? String(value));
  if (value.length <= max) return quotedString(value);
  // Cut between characters, not inside a surrogate pair (a lone half would be escaped as noise).
  let end = max - 1;
  if (end > 0 && /[\ud800-\udbff]/.test(value[end - 1]!)) end -= 1;
  return `${quotedString(value.slice(0, end)).slice(0, -1)}…" (${value.length} characters)`;
}

function quotedString(text: string): string {
  return `"${escapeUnseen(text.replace(/[\\"]/g, (character) => `\\${character}`))}"`;
}
