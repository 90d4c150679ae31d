import { SetMetadata } from '@nestjs/common';
import type { FieldError } from '@stagecraft/contracts';
import { unknownField } from './problem';

const PARAMETERS_ELSEWHERE = 'stagecraft:parameters-elsewhere';

/** Per query parameter a route does not have: where what it asks for is served (a sibling route, or this one's own options). */
export type ParametersElsewhere = Readonly<Record<string, string>>;

/**
 * Names query parameters a sibling route takes and this one does not, with what to send instead:
 * `?asOf=` on the history was refused as "property asOf should not exist", which tells a client
 * that knows it from `GET /opportunities/{id}` nothing about where the state at an instant is read.
 * On a query DTO class (the validation pipe reads it) or on a handler without one (KnownInputGuard).
 * Still the same 400 REQUEST.VALIDATION_FAILED: only the message says more.
 */
export const ParametersElsewhere = (elsewhere: ParametersElsewhere) => SetMetadata(PARAMETERS_ELSEWHERE, elsewhere);

export function parametersElsewhereOf(target: object | undefined): ParametersElsewhere | undefined {
  return target === undefined ? undefined : (Reflect.getMetadata(PARAMETERS_ELSEWHERE, target) as ParametersElsewhere | undefined);
}

/** The errors, each "unknown parameter" that `elsewhere` names told where it is served. */
export function toldWhereElsewhere(errors: readonly FieldError[], elsewhere: ParametersElsewhere | undefined): FieldError[] {
  return errors.map((error) => {
    const instead = elsewhere !== undefined && Object.hasOwn(elsewhere, error.field) ? elsewhere[error.field] : undefined;
    return instead !== undefined && error.message === unknownField(error.field).message ? { field: error.field, message: `${error.field} is no parameter of this route: ${instead}` } : error;
  });
}

/**
 * What to send instead of an as-of parameter on a route of one opportunity that has no as-of view;
 * `here`: what this route offers of its own, said after it.
 */
export function asOfElsewhere(here?: string): ParametersElsewhere {
  const then = here === undefined ? '' : `; ${here}`;
  return {
    asOf: `GET /opportunities/{id}?asOf= gives the opportunity as it was at an instant (business time)${then}`,
    asOfRecorded: `GET /opportunities/{id}?asOfRecorded= gives the opportunity as the system knew it at an instant (recording time)${then}`,
  };
}
