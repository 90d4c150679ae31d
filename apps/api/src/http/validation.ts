import { ValidationPipe, type ArgumentMetadata, type PipeTransform, type ValidationError, type ValidationPipeOptions } from '@nestjs/common';
import type { FieldError } from '@stagecraft/contracts';
import { acceptedAs } from './compiled-body';
import { parametersElsewhereOf, toldWhereElsewhere } from './parameters-elsewhere.decorator';
import { ApiProblem, unknownField, validationProblem } from './problem';

/** Rules about a value's kind: when one is broken, it is what the field is told (not its length or range). */
const KIND_RULES = new Set(['isString', 'isInt', 'isBoolean', 'isArray', 'isNumber', 'isObject']);

/**
 * Flattens class-validator's tree into one entry per bad field, with dotted paths. A field gets
 * one message, the most telling of the rules it breaks: that it is missing, else its kind, else
 * the first in declaration order. (The first rule class-validator meets is the last decorator
 * written, which told a missing stage it "must be longer than or equal to 1 characters".)
 */
export function fieldErrors(errors: readonly ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const constraints = error.constraints ?? {};
    const broken = Object.keys(constraints);
    const own: FieldError[] = [];
    if (broken.length > 0) {
      // An optional field left out is never judged: a rule broken by no value says it is required.
      if (error.value === undefined && !broken.includes('whitelistValidation')) own.push({ field, message: `${field} is required` });
      else own.push({ field, message: constraints[broken.find((rule) => KIND_RULES.has(rule)) ?? firstDeclared(broken)]! });
    }
    return [...own, ...fieldErrors(error.children ?? [], field)];
  });
}

/** class-validator lists a field's broken rules from the last decorator written to the first. */
const firstDeclared = (broken: readonly string[]) => broken[broken.length - 1]!;

/** Nest's ValidationPipe, saying ahead whether it would validate a value or only pass it on (a path parameter typed string). */
class ClassValidatorPipe extends ValidationPipe {
  /** Whether transform() validates a value of this kind, as its first lines decide. */
  validates(metadata: ArgumentMetadata): boolean {
    return this.expectedType !== undefined || (Boolean(metadata.metatype) && this.toValidate(metadata));
  }

  /** What transform() answers for a value it does not validate, without the promise. */
  passOn(value: unknown, metadata: ArgumentMetadata): unknown {
    return this.isTransformEnabled ? this.transformPrimitive(value, metadata) : value;
  }
}

/**
 * class-validator, except for a body the route's compiled schema already accepted as this very
 * DTO (compiled-body.ts): that one passes as it is. Everything else, errors included, is
 * class-validator's to judge and word. What it would not validate (a string path parameter) and
 * an accepted body are answered at once rather than as a promise: every command has both.
 */
class ApiValidationPipe implements PipeTransform {
  private readonly pipe: ClassValidatorPipe;

  constructor(options: ValidationPipeOptions) {
    this.pipe = new ClassValidatorPipe(options);
  }

  transform(value: unknown, metadata: ArgumentMetadata): unknown {
    const elsewhere = metadata.type === 'query' ? parametersElsewhereOf(metadata.metatype) : undefined;
    if (elsewhere === undefined) return this.judge(value, metadata);
    // A parameter a sibling route has is told where it is served, beside every other fault found.
    const told = (error: unknown): never => {
      if (!(error instanceof ApiProblem) || error.code !== 'REQUEST.VALIDATION_FAILED') throw error;
      throw validationProblem(toldWhereElsewhere((error.extensions['errors'] as readonly FieldError[] | undefined) ?? [], elsewhere));
    };
    try {
      const judged = this.judge(value, metadata);
      return judged instanceof Promise ? judged.catch(told) : judged;
    } catch (error) {
      return told(error);
    }
  }

  private judge(value: unknown, metadata: ArgumentMetadata): unknown {
    if (metadata.type === 'body' && metadata.metatype !== undefined && acceptedAs(value) === metadata.metatype) return value;
    if (!this.pipe.validates(metadata)) return this.pipe.passOn(value, metadata);
    // A body is an object (left out, it is one with no fields): null, a list or a lone value would
    // be judged field by field as if empty, and a PATCH of null answered 200 doing nothing.
    if (metadata.type === 'body' && value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
      throw validationProblem([{ field: '(body)', message: `the body must be a JSON object, not ${Array.isArray(value) ? 'a list' : value === null ? 'null' : `a ${typeof value}`}` }]);
    }
    // An inherited name (`?constructor=1&constructor=2`) is no parameter, however often it came: told that once.
    const inherited = metadata.type === 'query' || metadata.type === 'body' ? inheritedNameErrors(value) : [];
    const repeated = metadata.type === 'query' ? repeatedParameterErrors(value).filter((error) => !inherited.some((other) => other.field === error.field)) : [];
    const own = [...inherited, ...repeated];
    if (own.length > 0) return this.refuseWith(own, value, metadata);
    return this.pipe.transform(value, metadata);
  }

  /**
   * class-validator's errors, if any, then these, which it cannot see or would word wrongly: a
   * field both name is told only these (one message per field).
   */
  private async refuseWith(own: readonly FieldError[], value: unknown, metadata: ArgumentMetadata): Promise<never> {
    let found: readonly FieldError[] = [];
    try {
      await this.pipe.transform(value, metadata);
    } catch (error) {
      const errors = error instanceof ApiProblem && error.code === 'REQUEST.VALIDATION_FAILED' ? (error.extensions['errors'] as readonly FieldError[] | undefined) : undefined;
      if (!errors) throw error;
      found = errors;
    }
    // A field no parameter has is told so, however often it came.
    const unknown = new Set(found.filter((error) => error.message === unknownField(error.field).message).map((error) => error.field));
    const mine = own.filter((error) => !unknown.has(error.field));
    const named = new Set(mine.map((error) => error.field));
    throw validationProblem([...found.filter((error) => !named.has(error.field)), ...mine]);
  }
}

/**
 * A query parameter given more than once arrives as a list, which no parameter takes: class-validator
 * told `?processId=standard&processId=inside-sales` that processId "must be a string", and two valid
 * instants that `from` must be an ISO 8601 date-time — true of each value, so no help. Said as it is.
 */
export function repeatedParameterErrors(query: unknown): FieldError[] {
  if (query === null || typeof query !== 'object') return [];
  return Object.entries(query)
    .filter((entry): entry is [string, unknown[]] => Array.isArray(entry[1]))
    .map(([field, values]) => ({ field, message: `${field} was given ${values.length} times; give it once (where a parameter takes several values, they go comma-separated in one: closed=won,lost)` }));
}

/**
 * class-transformer skips a field named like a property every object inherits (`constructor`,
 * `toString`, `__proto__`…), so forbidNonWhitelisted never sees it and `?constructor=1` would pass
 * silently where `?colour=1` is refused. No DTO declares such a name: they are unknown fields too,
 * worded as forbidNonWhitelisted words the others.
 */
export function inheritedNameErrors(value: unknown): FieldError[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.keys(value)
    .filter((key) => key === '__proto__' || key in Object.prototype)
    .map(unknownField);
}

/** Unknown fields are refused, not ignored: a typo in a field name must not pass silently. */
export const VALIDATION_OPTIONS: ValidationPipeOptions = {
  whitelist: true,
  // Every rule a bad field breaks, of which fieldErrors tells the most telling one.
  stopAtFirstError: false,
  forbidNonWhitelisted: true,
  transform: true,
  transformOptions: { enableImplicitConversion: false },
  // The value is read by fieldErrors (was one given?), never answered.
  validationError: { target: false, value: true },
  exceptionFactory: (errors) => validationProblem(fieldErrors(errors)),
};

export function createValidationPipe(): PipeTransform {
  return new ApiValidationPipe(VALIDATION_OPTIONS);
}
