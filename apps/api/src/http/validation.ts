import { ValidationPipe, type ValidationError } from '@nestjs/common';
import type { FieldError } from '@stagecraft/contracts';
import { validationProblem } from './problem';

/** Flattens class-validator's tree into one entry per bad field, with dotted paths. */
export function fieldErrors(errors: readonly ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

/** Unknown fields are refused, not ignored: a typo in a field name must not pass silently. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    // One message per bad field: the first rule it breaks.
    stopAtFirstError: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => validationProblem(fieldErrors(errors)),
  });
}
