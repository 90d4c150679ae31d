import { getMetadataStorage, type ValidationArguments } from 'class-validator';
import { IS_OMITTABLE } from './omittable.validator';

// A DTO's class-validator decorators, read once and written as a JSON Schema that Ajv compiles:
// one declaration (the DTO class), two readers. The schema is a fast *acceptance* test for the hot
// command routes: a body it accepts must be one class-validator accepts too (the spec beside this
// file checks that on a corpus and on random bodies). It may be stricter: whatever it does not
// accept (a null optional field, a note holding a variation selector) goes to class-validator,
// which accepts it or words the problem, so every answer stays what class-validator says.
//
// Rules JSON Schema cannot say (an instant, an amount, a UUID, a stage mapping) are kept as the
// keyword CLASS_VALIDATOR_KEYWORD naming the rule, checked by the very function the decorator
// registered.

export const CLASS_VALIDATOR_KEYWORD = 'x-class-validator';

export type JsonSchema = Record<string, unknown>;

/** A DTO class (its constructor: class-validator keeps the rules by it). */
export type DtoClass = abstract new (...args: never[]) => object;

/** A rule the schema defers to: the decorator's own validate function. */
export type ClassValidatorCheck = (value: unknown, object: Record<string, unknown>) => boolean;

export interface DtoSchema {
  readonly dto: DtoClass;
  readonly schema: JsonSchema;
  /** The rules named by CLASS_VALIDATOR_KEYWORD in the schema, by that name. */
  readonly checks: ReadonlyMap<string, ClassValidatorCheck>;
}

// isLength (validator.js) counts a character followed by U+FE0E/U+FE0F as one; JSON Schema counts
// code points. Strings holding them go to class-validator.
const VARIATION_SELECTOR = '[\\uFE0E\\uFE0F]';

/** The JSON Schema of a DTO's body, from its class-validator metadata (inherited fields included). */
export function dtoJsonSchema(dto: DtoClass): DtoSchema {
  const storage = getMetadataStorage();
  const byProperty = new Map<string, ReturnType<typeof storage.getTargetValidationMetadatas>>();
  for (const metadata of storage.getTargetValidationMetadatas(dto, '', false, false, undefined)) {
    const list = byProperty.get(metadata.propertyName) ?? [];
    list.push(metadata);
    byProperty.set(metadata.propertyName, list);
  }
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const checks = new Map<string, ClassValidatorCheck>();
  for (const [property, rules] of byProperty) {
    const where = `${dto.name}.${property}`;
    const schema: JsonSchema = {};
    const allOf: JsonSchema[] = [];
    let optional = false;
    for (const rule of rules) {
      if (rule.each || rule.always || (rule.groups?.length ?? 0) > 0 || rule.context !== undefined) {
        throw new Error(`${where}: the schema generator does not handle each/always/groups/context (rule ${rule.name ?? rule.type})`);
      }
      if (rule.type === 'conditionalValidation' && (rule.name === 'isOptional' || rule.name === IS_OMITTABLE)) {
        optional = true;
        continue;
      }
      if (rule.type !== 'customValidation') throw new Error(`${where}: the schema generator does not handle ${rule.type} (${rule.name ?? ''})`);
      const [first, second] = rule.constraints ?? [];
      switch (rule.name) {
        case 'isString':
          allOf.push({ type: 'string' });
          break;
        case 'isBoolean':
          allOf.push({ type: 'boolean' });
          break;
        case 'isInt':
          allOf.push({ type: 'integer' });
          break;
        case 'min':
          allOf.push({ type: 'number', minimum: first });
          break;
        case 'max':
          allOf.push({ type: 'number', maximum: first });
          break;
        case 'isIn':
          allOf.push({ enum: [...(first as unknown[])] });
          break;
        case 'isLength':
          allOf.push({ type: 'string', minLength: first, ...(second !== undefined ? { maxLength: second } : {}), not: { pattern: VARIATION_SELECTOR } });
          break;
        case 'matches':
          // Ajv runs patterns as new RegExp(source) (unicodeRegExp off), as validator.js does; flags have no place in a pattern.
          if (first instanceof RegExp && first.flags === '' && second === undefined) {
            allOf.push({ type: 'string', pattern: first.source });
            break;
          }
          allOf.push(deferred(rule, where, checks));
          break;
        default:
          allOf.push(deferred(rule, where, checks));
      }
    }
    Object.assign(schema, allOf.length === 1 ? allOf[0] : { allOf });
    properties[property] = schema;
    if (!optional) required.push(property);
  }
  return {
    dto,
    schema: { type: 'object', properties, required, additionalProperties: false },
    checks,
  };
}

type ValidationMetadata = ReturnType<ReturnType<typeof getMetadataStorage>['getTargetValidationMetadatas']>[number];

/** A rule checked by the decorator's own constraint (a ValidateBy or a built-in with no JSON Schema twin). */
function deferred(rule: ValidationMetadata, where: string, checks: Map<string, ClassValidatorCheck>): JsonSchema {
  const [constraint] = getMetadataStorage().getTargetValidatorConstraints(rule.constraintCls);
  if (!constraint?.instance || constraint.async) throw new Error(`${where}: no synchronous constraint for ${rule.name}`);
  const validator = constraint.instance as { validate(value: unknown, args: ValidationArguments): boolean | Promise<boolean> };
  const name = `${where}#${rule.name}`;
  checks.set(name, (value, object) => {
    const verdict = validator.validate(value, { value, constraints: rule.constraints, targetName: where.split('.')[0]!, object, property: rule.propertyName });
    return verdict === true;
  });
  return { [CLASS_VALIDATOR_KEYWORD]: name };
}
