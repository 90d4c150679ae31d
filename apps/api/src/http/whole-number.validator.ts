import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, Max, Min } from 'class-validator';

/**
 * A whole-number query parameter: one message for every way to miss it (not a number, a
 * fraction, given twice, out of range), saying what it must be. class-validator checks rules in
 * the order they were declared, and the first broken one is the message: stacked decorators
 * declare bottom-up, so "abc" used to be told it "must not be greater than 1000".
 */
export function WholeNumberBetween(min: number, max = Number.MAX_SAFE_INTEGER): PropertyDecorator {
  // Without a bound of its own, a parameter still takes the safe integers only (wholeNumberOf
  // leaves a larger one as text): its message says so, or `minPosition=9007199254740992`, a whole
  // number of at least 0, was told it "must be a whole number of at least 0".
  const message = `$property must be a whole number from ${min} to ${max}`;
  return applyDecorators(Transform(({ value }) => wholeNumberOf(value)), IsInt({ message }), Min(min, { message }), Max(max, { message }));
}

/**
 * An optional whole-number query parameter, validated and documented from one statement: the
 * OpenAPI document gives the range and the default that validation and the route apply, so a
 * client generated from it cannot drift from what the API refuses.
 */
export function WholeNumberParameter(options: { readonly min: number; readonly max?: number; readonly default?: number; readonly description?: string; readonly example?: number }): PropertyDecorator {
  const { min, max, description, example } = options;
  return applyDecorators(
    ApiPropertyOptional({
      type: 'integer',
      minimum: min,
      ...(max === undefined || max === Number.MAX_SAFE_INTEGER ? {} : { maximum: max }),
      ...(options.default === undefined ? {} : { default: options.default }),
      ...(description === undefined ? {} : { description }),
      ...(example === undefined ? {} : { example }),
    }),
    WholeNumberBetween(min, max),
  );
}

/**
 * A query parameter's decimal digits as a number; any other text stays text, for IsInt to refuse.
 * Number() alone would read `0x10`, `1e3`, ` 5` and `` as numbers (16, 1000, 5, 0). Every safe
 * integer, so every such number is exact: up to 15 digits only, `fromRevision=9007199254740991`
 * was refused as "a whole number from 0 to 9007199254740991", and 16-digit log positions with it.
 * Written the one way only, as `+5` already had to be: `-0` was 0 (passing "at least 0"), `007`
 * was 7, and a 16-digit `0000000000000001` was 1 where 17 digits were refused.
 */
export function wholeNumberOf(value: unknown): unknown {
  if (typeof value !== 'string' || !/^(?:0|-?[1-9]\d{0,15})$/.test(value)) return value;
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : value;
}
