import { ValidationPipe, type ArgumentMetadata, type ValidationError, type ValidationPipeOptions } from '@nestjs/common';
import type { FieldError } from '@stagecraft/contracts';
import { acceptedAs } from './compiled-body';
import { validationProblem } from './problem';

/** Flattens class-validator's tree into one entry per bad field, with dotted paths. */
export function fieldErrors(errors: readonly ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

/**
 * class-validator, except for a body the route's compiled schema already accepted as this very
 * DTO (compiled-body.ts): that one passes as it is. Everything else, errors included, is
 * class-validator's to judge and word.
 */
class ApiValidationPipe extends ValidationPipe {
  override transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && metadata.metatype !== undefined && acceptedAs(value) === metadata.metatype) return Promise.resolve(value);
    return super.transform(value, metadata);
  }
}

/** Unknown fields are refused, not ignored: a typo in a field name must not pass silently. */
export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  // One message per bad field: the first rule it breaks.
  stopAtFirstError: true,
  forbidNonWhitelisted: true,
  transform: true,
  transformOptions: { enableImplicitConversion: false },
  validationError: { target: false, value: false },
  exceptionFactory: (errors) => validationProblem(fieldErrors(errors)),
};

export function createValidationPipe(): ValidationPipe {
  return new ApiValidationPipe(VALIDATION_OPTIONS);
}
