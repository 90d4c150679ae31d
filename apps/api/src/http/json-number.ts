// A JSON number is read as a double: past 15–17 significant digits it becomes another number, and
// `{"amount": 999999999999999.9999}` was recorded as 10^15 without a word. A body's number is taken
// only when the double it becomes prints as the digits written (the CLI's import holds cells to
// the same rule). Read from the body's text, where the digits still are: JSON.parse has dropped them.

/** A number written where a JSON value goes, or a string (skipped: its digits are text). */
const TOKEN = /"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g;
const LITERAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/** A decimal as sign, significant digits and the power of ten of the last one: "-0012.50" → "-125e-1"; every zero → "0". */
function canonical(text: string): string {
  const [, sign, whole, fraction = '', exponent = '0'] = LITERAL.exec(text)!;
  const digits = `${whole}${fraction}`.replace(/^0+/, '');
  if (digits === '') return '0';
  const significant = digits.replace(/0+$/, '');
  return `${sign}${significant}e${BigInt(exponent) - BigInt(fraction.length) + BigInt(digits.length - significant.length)}`;
}

export interface InexactNumber {
  /** The name of the member it is the value of (of the array's member for an array's item), or undefined at the top. */
  readonly field: string | undefined;
  readonly written: string;
  /** What it would be stored as. */
  readonly readAs: number;
}

/** The first number of a JSON text that no double holds as written; the text must be valid JSON. */
export function firstInexactNumber(text: string): InexactNumber | undefined {
  let field: string | undefined;
  for (const match of text.matchAll(TOKEN)) {
    const token = match[0];
    if (token.startsWith('"')) {
      // A string followed by ':' names the member whose value comes next.
      if (/^\s*:/.test(text.slice(match.index + token.length, match.index + token.length + 64))) field = JSON.parse(token) as string;
      continue;
    }
    const readAs = Number(token);
    if (!Number.isFinite(readAs) || canonical(String(readAs)) !== canonical(token)) return { field, written: token, readAs };
  }
  return undefined;
}
