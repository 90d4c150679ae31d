import { INSTANT_RULE, parseInstant } from '@stagecraft/opportunity';
import { ValidateBy } from 'class-validator';

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
      defaultMessage: () => `$property must be ${INSTANT_RULE}`,
    },
  });
}
