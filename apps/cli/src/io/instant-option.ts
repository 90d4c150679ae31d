import { INSTANT_RULE, parseInstant } from '@stagecraft/opportunity';
import { CliError } from '../cli.errors';
import { quoted } from './printable';

/**
 * The milliseconds of an option that takes an instant (`--as-of`, `--from`, `--to`), read by
 * `parse` (parseInstant unless the option is a lower bound); a usage error in the API's words
 * (INSTANT_RULE) when the text is not one, quoting it as the API quotes a value (`quoted`): printed
 * raw, an escape sequence, a line break or a bidirectional override in it would act on the terminal.
 */
export function instantOption(option: string, text: string, parse: (text: string) => number | undefined = parseInstant): number {
  const ms = parse(text);
  if (ms === undefined) throw new CliError(`${option} must be ${INSTANT_RULE}; got ${quoted(text)}.`);
  return ms;
}
