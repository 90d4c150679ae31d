import { AMOUNT_RULE, isValidAmount } from '@stagecraft/opportunity';
import { ValidateBy } from 'class-validator';

/** An amount as the domain's rule has it (libs/opportunity/src/amount.ts): one rule, checked at the edge and in decide. */
export function IsAmount(): PropertyDecorator {
  return ValidateBy({
    name: 'isAmount',
    validator: {
      validate: (value: unknown) => isValidAmount(value),
      defaultMessage: () => `$property must be ${AMOUNT_RULE}`,
    },
  });
}
