/**
 * Characters a terminal acts on rather than shows: controls (ESC starts the sequences that move
 * the cursor, clear the screen or retitle the window; a line break starts a line the reader takes
 * for the CLI's own), line and paragraph separators, and the bidirectional embeddings, overrides
 * and isolates (which reorder what follows on the line).
 */
const ACTED_ON = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const NAMED: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * One line of the CLI's text output as the terminal will show it: recorded text (a title, a note,
 * next steps) is whatever a client sent, so each character a terminal would act on is written as
 * its escape (\n, \u001b) instead. The exact text is in `--json`.
 */
export function printable(line: string): string {
  return line.replace(ACTED_ON, (character) => NAMED[character] ?? `\\u${character.codePointAt(0)!.toString(16).padStart(4, '0')}`);
}
