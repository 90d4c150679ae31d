import type { SchemaObject } from '@nestjs/swagger';

// JSON Schemas of the answers, for the OpenAPI document, written against the contract types
// (libs/contracts): keyed by the type's own fields, so a field added to an answer cannot be left
// out of its schema (the compiler says so), and every field not optional in the type is required.

type Properties<T> = { readonly [field in keyof Required<T>]: SchemaObject };

export function objectSchema<T>(properties: Properties<T>, optional: readonly (keyof T)[] = [], description?: string): SchemaObject {
  return {
    type: 'object',
    ...(description === undefined ? {} : { description }),
    required: Object.keys(properties).filter((field) => !optional.includes(field as keyof T)),
    properties: properties as Record<string, SchemaObject>,
  };
}

export const STRING: SchemaObject = { type: 'string' };
export const NULLABLE_STRING: SchemaObject = { type: 'string', nullable: true };
export const INSTANT: SchemaObject = { type: 'string', format: 'date-time' };
export const NULLABLE_INSTANT: SchemaObject = { type: 'string', format: 'date-time', nullable: true };
export const WHOLE: SchemaObject = { type: 'integer', minimum: 0 };
export const NUMBER: SchemaObject = { type: 'number' };
export const NULLABLE_NUMBER: SchemaObject = { type: 'number', nullable: true };
export const BOOLEAN: SchemaObject = { type: 'boolean' };
export const STRINGS: SchemaObject = { type: 'array', items: STRING };
export const OUTCOME_STATUS: SchemaObject = { type: 'string', enum: ['open', 'won', 'lost'] };
export const arrayOf = (items: SchemaObject): SchemaObject => ({ type: 'array', items });
/** A JSON object whose members the schema does not pin (an event's data, an XState config). */
export const FREE_OBJECT: SchemaObject = { type: 'object', additionalProperties: true };
