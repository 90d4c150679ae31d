import { RouteSchema } from '@nestjs/platform-fastify';
import Ajv from 'ajv';
import type { FastifyInstance } from 'fastify';
import { CLASS_VALIDATOR_KEYWORD, dtoJsonSchema, type ClassValidatorCheck, type DtoClass, type DtoSchema, type JsonSchema } from './dto-json-schema';

// The hot command routes check their body with a JSON Schema compiled by Ajv (generated from the
// DTO class: dto-json-schema.ts) instead of class-validator's ValidationPipe, which cost ~9 % of a
// command on the event loop. The compiled check only ever *accepts*: a body it accepts is marked
// and the pipe lets it through as it is; anything else goes on to the ValidationPipe as before,
// which accepts it or answers the very same 400 REQUEST.VALIDATION_FAILED. So errors, their
// order and their words cannot drift from class-validator's, and nothing about who answers first
// (authentication before validation) changes.

/** Bodies the compiled schema accepted, and the DTO it was the schema of. Objects only, never forged by a client. */
const accepted = new WeakMap<object, DtoClass>();

/** The generated schema by the schema object Fastify hands the compiler. */
const bySchema = new WeakMap<JsonSchema, DtoSchema>();

/**
 * Route decorator: the body of this route is `dto` (its @Body() parameter's type); check it with
 * the compiled schema. `response` (status → JSON Schema) has Fastify write those answers with a
 * serialiser compiled from the schema (fast-json-stringify) instead of JSON.stringify.
 */
export function CompiledBody(dto: DtoClass, response?: Readonly<Record<number, JsonSchema>>): MethodDecorator {
  const generated = dtoJsonSchema(dto);
  bySchema.set(generated.schema, generated);
  const routeSchema = RouteSchema({ body: generated.schema, ...(response ? { response } : {}) });
  return (target, key, descriptor) => {
    // A schema for another class than the handler takes would only ever miss (the pipe checks the class): say so now.
    const parameterTypes = (Reflect.getMetadata('design:paramtypes', target, key) ?? []) as unknown[];
    if (!parameterTypes.includes(dto)) throw new Error(`@CompiledBody(${dto.name}) on ${String(key)}, which takes no ${dto.name}`);
    routeSchema(target, key, descriptor);
  };
}

/** The DTO class whose compiled schema accepted this body, if one did. */
export function acceptedAs(value: unknown): DtoClass | undefined {
  return typeof value === 'object' && value !== null ? accepted.get(value) : undefined;
}

/** A validator for one generated schema: marks what it accepts, never refuses (ValidationPipe does). */
export function compileBodyCheck(generated: DtoSchema): (body: unknown) => boolean {
  const validate = newAjv(generated.checks).compile(generated.schema);
  return (body) => {
    if (!validate(body)) return false;
    accepted.set(body as object, generated.dto);
    return true;
  };
}

/** Fastify compiles the schemas CompiledBody put on routes with this (and only those: no other route has one). */
export function addCompiledBodyValidation(fastify: FastifyInstance): void {
  fastify.setValidatorCompiler(({ schema, httpPart, url }) => {
    const generated = bySchema.get(schema as JsonSchema);
    if (httpPart !== 'body' || !generated) throw new Error(`${url}: only bodies declared with @CompiledBody have a schema (found one for ${httpPart})`);
    const check = compileBodyCheck(generated);
    // `true` either way: Fastify leaves the body as it is and raises nothing; the pipe decides.
    return (body: unknown) => {
      check(body);
      return true;
    };
  });
}

function newAjv(checks: ReadonlyMap<string, ClassValidatorCheck>): Ajv {
  const ajv = new Ajv({
    allErrors: false,
    coerceTypes: false,
    useDefaults: false,
    removeAdditional: false,
    // Patterns run as class-validator runs them: new RegExp(source), without the u flag.
    unicodeRegExp: false,
    strict: true,
  });
  ajv.addKeyword({
    keyword: CLASS_VALIDATOR_KEYWORD,
    schemaType: 'string',
    errors: false,
    validate: (name: string, value: unknown, _schema?: unknown, context?: { parentData?: unknown }) => {
      const check = checks.get(name);
      if (!check) throw new Error(`No class-validator rule ${name}`);
      return check(value, (context?.parentData ?? {}) as Record<string, unknown>);
    },
  });
  return ajv;
}
