import type { SchemaObject } from '@nestjs/swagger';
import type { MoveOptionAnswer, ProcessDefinitionAnswer, ProcessDetail, ProcessList, ProcessSummary, ProcessVersionInfo } from '@stagecraft/contracts';
import { arrayOf, BOOLEAN, FREE_OBJECT, INSTANT, NUMBER, objectSchema, STRING, STRINGS } from '../http/answer-schema';

// The process routes' answers in the OpenAPI document (http/answer-schema.ts says why they are keyed by the contract types).

const SUMMARY_FIELDS = {
  id: STRING,
  name: STRING,
  version: STRING,
  stages: arrayOf({ type: 'object', required: ['id', 'name', 'probability'], properties: { id: STRING, name: STRING, probability: NUMBER } }),
  teams: STRINGS,
  default: BOOLEAN,
} as const satisfies { readonly [field in keyof ProcessSummary]: SchemaObject };

export const PROCESS_LIST_SCHEMA = objectSchema<ProcessList>({ processes: arrayOf(objectSchema<ProcessSummary>(SUMMARY_FIELDS)) });

const CRITERION = { type: 'object', required: ['id', 'description'], properties: { id: STRING, description: STRING } } satisfies SchemaObject;

const DEFINITION = objectSchema<ProcessDefinitionAnswer>(
  {
    id: STRING,
    name: STRING,
    description: STRING,
    stages: arrayOf(
      objectSchema<ProcessDefinitionAnswer['stages'][number]>(
        {
          id: STRING,
          name: STRING,
          description: STRING,
          probability: NUMBER,
          exitCriteria: arrayOf(CRITERION),
          rotAfterDays: { type: 'integer', minimum: 1, maximum: 3650, description: 'absent: deals never rot in this stage' },
        },
        ['description', 'rotAfterDays'],
      ),
    ),
    rules: { type: 'object', required: ['allowSkipping', 'allowBackward', 'winFrom'], properties: { allowSkipping: BOOLEAN, allowBackward: BOOLEAN, winFrom: STRINGS } },
    lostReasons: STRINGS,
    wonReasons: STRINGS,
    teams: STRINGS,
  },
  ['description', 'wonReasons'],
);

const MOVE_OPTION = objectSchema<MoveOptionAnswer>(
  {
    to: STRING,
    allowed: BOOLEAN,
    requiredCriteria: STRINGS,
    refusal: { type: 'object', required: ['rule', 'code', 'message'], properties: { rule: STRING, code: STRING, message: STRING } },
  },
  ['refusal'],
);

export const PROCESS_DETAIL_SCHEMA = objectSchema<ProcessDetail>({
  ...SUMMARY_FIELDS,
  definition: DEFINITION,
  versions: arrayOf(objectSchema<ProcessVersionInfo>({ version: STRING, recordedAt: INSTANT, source: STRING, current: BOOLEAN })),
  moves: arrayOf({ type: 'object', required: ['from', 'options'], properties: { from: STRING, options: arrayOf(MOVE_OPTION) } }),
});

/** XState's machine config: its shape is XState's, not this API's. */
export const MACHINE_SCHEMA: SchemaObject = { ...FREE_OBJECT, description: "XState v5 machine config (JSON), for Stately's visualizer" };
