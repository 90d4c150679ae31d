import { INSTANT_RULE, parseInstant } from '@stagecraft/opportunity';
import { quotedValue } from '@stagecraft/sales-process';
import { ValidateBy, type ValidationArguments } from 'class-validator';

/**
 * A space where an offset's sign would be (…T00:00:00 05:30, …00.123 0530, …00 05): what an
 * offset's "+" becomes in a query string sent unencoded, which reads "+" as a space.
 */
const PLUS_READ_AS_SPACE = /T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)? \d{2}(?::?\d{2})?$/;

/**
 * An instant as every route takes it: ISO 8601 with a zone, a real calendar date and time. The
 * same parser the domain and the read models use (libs/opportunity/src/instant.ts), so no query
 * reads an instant in the server's time zone and none rolls 2026-02-30 over into March.
 */
export function IsInstant(): PropertyDecorator {
  return ValidateBy({
    name: 'isInstant',
    validator: {
      validate: (value: unknown) => typeof value === 'string' && parseInstant(value) !== undefined,
      defaultMessage: (args?: ValidationArguments) => instantRefusal(args?.property ?? '$property', args?.value),
    },
  });
}

/**
 * What a parameter or field that takes an instant says of a value that is not one: its name, the
 * form it takes, and the value as it was read (quotedValue: a line break, an escape sequence or a
 * bidirectional override in it is escaped, so the message stays one line that reads as sent; a
 * long one cut short).
 */
export function instantRefusal(name: string, value: unknown): string {
  return `${name} must be ${INSTANT_RULE}; got ${quoted(value)}${plusHint(name, value)}`;
}

function quoted(value: unknown): string {
  if (typeof value !== 'string') return value === undefined || value === null ? String(value) : `a ${Array.isArray(value) ? 'list' : typeof value}`;
  return quotedValue(value);
}

/** The rule alone says "with a time zone" to a caller who sent one: say where its "+" went. */
function plusHint(name: string, value: unknown): string {
  return typeof value === 'string' && PLUS_READ_AS_SPACE.test(value)
    ? `; it holds a space where its offset's sign would be: a query string reads "+" as a space, so send a "+" in a URL as %2B (${name}=2026-01-01T00:00:00%2B05:30)`
    : '';
}
