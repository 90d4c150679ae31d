import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { INSTANT_RULE, parseInstant } from '@stagecraft/opportunity';
import { IsOptional } from 'class-validator';
import { IsInstant, instantRefusal } from './instant.validator';
import { IsOmittable } from './omittable.validator';
import { validationProblem } from './problem';

// The one place every route that reads "as of an instant" (GET /pipeline, /analytics/forecast,
// /analytics/rotting, /opportunities/:id, JSON and CSV alike) documents, validates and reads its
// parameter: each said the same thing its own way, and a value its DTO let through was read again
// by a parser that threw a RangeError (a 500) instead of a 400.

/** The names an as-of parameter has: business time, or what the system knew then. */
export type AsOfParameterName = 'asOf' | 'asOfRecorded';

/** The example every as-of parameter gives in the OpenAPI document. */
export const AS_OF_EXAMPLE = '2026-03-31T23:59:59Z';

/** What the OpenAPI document says of every as-of parameter's value, after what the parameter reads. */
export const AS_OF_FORM = `An instant: ${INSTANT_RULE}; an offset's "+" is sent in a URL as %2B. Anything else is refused, 400 REQUEST.VALIDATION_FAILED naming the parameter and the value.`;

/**
 * An optional as-of query parameter: documented (`reads`: what the answer is at that instant) and
 * refused as every other. `omittable`: its rules judge any value given (see IsOmittable), for a
 * route whose DTO refuses null everywhere.
 */
export function AsOfParameter(reads: string, options: { readonly omittable?: boolean } = {}): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ type: 'string', format: 'date-time', description: `${reads}. ${AS_OF_FORM}`, example: AS_OF_EXAMPLE }),
    options.omittable ? IsOmittable() : IsOptional(),
    IsInstant(),
  );
}

/** The words an as-of parameter is refused with (instantRefusal: the name, the form, the value as read). */
export function asOfRefusal(parameter: AsOfParameterName, value: unknown): string {
  return instantRefusal(parameter, value);
}

/** The milliseconds of an as-of value; the same 400 as its DTO's when it is not an instant. */
export function asOfInstantMs(parameter: AsOfParameterName, value: string): number {
  const ms = parseInstant(value);
  if (ms === undefined) throw validationProblem([{ field: parameter, message: asOfRefusal(parameter, value) }]);
  return ms;
}
