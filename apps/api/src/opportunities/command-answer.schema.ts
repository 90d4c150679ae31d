import type { ApiResponseNoStatusOptions, SchemaObject } from '@nestjs/swagger';
import type { CommandAnswer } from '@stagecraft/contracts';
import type { JsonSchema } from '../http/dto-json-schema';

// The JSON Schema of what every command answers (CommandAnswer), for the serialiser Fastify
// compiles from it. Keyed by CommandAnswer's own fields, so a field added there cannot be left
// out here (the compiled serialiser writes only the fields its schema names).
const properties: { readonly [field in keyof Required<CommandAnswer>]: JsonSchema } = {
  id: { type: 'string' },
  stage: { type: 'string' },
  status: { type: 'string', enum: ['open', 'won', 'lost'] satisfies CommandAnswer['status'][] },
  revision: { type: 'integer', minimum: 0 },
  position: { type: 'integer', minimum: 0 },
};

export const COMMAND_ANSWER_SCHEMA: JsonSchema = { type: 'object', properties, required: Object.keys(properties) };

/** Answers of a command route: 200, and 201 for the one that opens. */
export const COMMAND_ANSWERS: Readonly<Record<number, JsonSchema>> = { 200: COMMAND_ANSWER_SCHEMA, 201: COMMAND_ANSWER_SCHEMA };

/** The same answer in the OpenAPI document, so a generated client reads what the serialiser writes. */
export const COMMAND_ANSWER_DOCUMENTED: ApiResponseNoStatusOptions = {
  description: 'Where the opportunity is now (ETag: its revision); position is its last event\'s place in the global log, for ?minPosition=',
  schema: COMMAND_ANSWER_SCHEMA as SchemaObject,
};
