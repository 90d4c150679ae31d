import type { SchemaObject } from '@nestjs/swagger';
import type { CallerAnswer } from '@stagecraft/contracts';
import { arrayOf, objectSchema, STRING, STRINGS } from '../http/answer-schema';
import { ROLES } from './roles';

// A caller's roles and teams as GET /me and the API keys' answers describe them (http/answer-schema.ts says why they are keyed by the contract types).

export const ROLES_SCHEMA: SchemaObject = arrayOf({ type: 'string', enum: [...ROLES] });
export const TEAMS_LIMIT_SCHEMA: SchemaObject = { ...STRINGS, nullable: true, description: 'null: every team' };

export const CALLER_SCHEMA = objectSchema<CallerAnswer>({ name: STRING, roles: ROLES_SCHEMA, teams: TEAMS_LIMIT_SCHEMA });
