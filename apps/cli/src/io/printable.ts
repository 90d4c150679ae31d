import { escapeUnseen, quotedValue } from '@stagecraft/sales-process';

/**
 * One line of the CLI's text output as the terminal will show it: recorded text (a title, a note,
 * next steps) is whatever a client sent, and an operator's argument or file may hold anything, so
 * each character a terminal would act on rather than show (a control such as ESC or a line break,
 * U+0085, a line separator, a bidirectional override or isolate, a zero-width character: the one
 * set the API escapes, escapeUnseen) is written as its escape (\n, \u001b) instead. The joiners,
 * the soft hyphen and a flag's tags are part of the text (a Persian word, an emoji) and stay. The
 * exact text is in `--json`.
 */
export function printable(line: string): string {
  return escapeUnseen(line, { keepPartsOfText: true });
}

/** The most of a value read from a file (a cell, a field) a reason quotes: a 50,000-character title is not printed whole. */
const CELL_MAX = 80;

/**
 * A value an operator gave or a file held, as a message quotes it: a string in double quotes,
 * escaped and cut as the API quotes a client's value (quotedValue); anything else as its JSON text,
 * escaped the same way and cut short; `nothing` for no value.
 */
export function quoted(value: unknown, max = CELL_MAX): string {
  if (typeof value === 'string') return quotedValue(value, max);
  const text = value === undefined ? 'nothing' : quotedValue(value);
  return text.length > max ? `${text.slice(0, max - 3)}…` : text;
}

/** The most of a value typed as an option or a command that a usage error quotes. */
export const USAGE_VALUE_MAX = 80;

/** Commander's own "did you mean" suggestion, which it writes on a line of its own after the error; it names only this CLI's commands and options. */
const SUGGESTION = /\n(\(Did you mean (?:one of )?[\w ,-]+\?\))$/;

/**
 * A usage error as Commander words it (an unknown option or command, a value outside an option's
 * choices or refused by its parser), with what was typed already quoted by `QuotingCommand`
 * (quoted, so cut past USAGE_VALUE_MAX), escaped as printable escapes output in case. Its
 * suggestion, if any, joins the line: a value holding a line break can then never end in a line
 * that reads as Commander's own.
 */
export function printableUsageError(text: string): string {
  const ended = text.endsWith('\n');
  const body = ended ? text.slice(0, -1) : text;
  const suggestion = SUGGESTION.exec(body);
  const said = suggestion ? body.slice(0, suggestion.index) : body;
  return `${printable(said)}${suggestion ? ` ${suggestion[1]}` : ''}${ended ? '\n' : ''}`;
}
