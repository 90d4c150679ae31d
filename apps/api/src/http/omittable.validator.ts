import { getMetadataStorage, ValidationTypes } from 'class-validator';

/** The name the schema generator (dto-json-schema.ts) knows this rule by, beside IsOptional's. */
export const IS_OMITTABLE = 'isOmittable';

/**
 * A field that may be left out, but whose rules judge it whenever it is given, null included.
 * IsOptional skips a field's rules for null too, so `{"title": null}` would pass as a title and
 * be recorded. No command field takes null but `expectedCloseDate` (null clears it), which keeps
 * IsOptional. Registered as IsOptional registers itself (a conditional rule; class-validator
 * exports no ValidationMetadata class, so the entry is written with the fields it has).
 */
export function IsOmittable(): PropertyDecorator {
  return (target, propertyName) => {
    getMetadataStorage().addValidationMetadata({
      type: ValidationTypes.CONDITIONAL_VALIDATION,
      name: IS_OMITTABLE,
      target: target.constructor,
      propertyName: propertyName as string,
      constraints: [(_object: unknown, value: unknown) => value !== undefined],
      groups: [],
      each: false,
      context: undefined,
    } as unknown as Parameters<ReturnType<typeof getMetadataStorage>['addValidationMetadata']>[0]);
  };
}
