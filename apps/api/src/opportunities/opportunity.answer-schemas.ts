import type { SchemaObject } from '@nestjs/swagger';
import type { HistoryAnswer, HistoryEntry, OpportunityView } from '@stagecraft/contracts';
import { arrayOf, BOOLEAN, FREE_OBJECT, INSTANT, NULLABLE_INSTANT, NULLABLE_NUMBER, NULLABLE_STRING, objectSchema, OUTCOME_STATUS, STRING, STRINGS, WHOLE } from '../http/answer-schema';

// The opportunity routes' answers in the OpenAPI document (http/answer-schema.ts says why they are keyed by the contract types).

const VIEW_FIELDS = {
  id: STRING,
  processId: STRING,
  processVersion: STRING,
  title: STRING,
  teamId: NULLABLE_STRING,
  ownerId: NULLABLE_STRING,
  amount: NULLABLE_NUMBER,
  currency: NULLABLE_STRING,
  stage: STRING,
  stageName: NULLABLE_STRING,
  status: OUTCOME_STATUS,
  criteriaMet: STRINGS,
  exitCriteria: arrayOf({ type: 'object', required: ['id', 'description', 'met'], properties: { id: STRING, description: STRING, met: BOOLEAN } }),
  lostReason: NULLABLE_STRING,
  wonReason: NULLABLE_STRING,
  nextSteps: NULLABLE_STRING,
  expectedCloseDate: { type: 'string', format: 'date', nullable: true },
  revision: WHOLE,
  position: WHOLE,
  openedAt: INSTANT,
  stageEnteredAt: NULLABLE_INSTANT,
  closedAt: NULLABLE_INSTANT,
  winProbability: { type: 'number', minimum: 0, maximum: 100, nullable: true, description: 'learned P(win) now; not on an as-of answer' },
  configuredProbability: { type: 'number', minimum: 0, maximum: 100, nullable: true, description: 'not on an as-of answer' },
} as const satisfies { readonly [field in keyof Required<OpportunityView>]: SchemaObject };

export const OPPORTUNITY_VIEW_SCHEMA = objectSchema<OpportunityView & { readonly asOf?: unknown }>(
  {
    ...VIEW_FIELDS,
    asOf: {
      type: 'object',
      description: 'With ?asOf= or ?asOfRecorded=: the instant, its axis and what was folded to answer',
      required: ['instant', 'axis', 'eventsFolded', 'latestRevision'],
      properties: { instant: INSTANT, axis: { type: 'string', enum: ['occurredAt', 'recordedAt'] }, eventsFolded: WHOLE, latestRevision: WHOLE },
    },
  },
  ['winProbability', 'configuredProbability', 'asOf'],
);

const HISTORY_ENTRY = objectSchema<HistoryEntry>({ revision: WHOLE, position: WHOLE, type: STRING, data: FREE_OBJECT, metadata: FREE_OBJECT });

/** `view=events` pages HistoryAnswer; `view=timeline` pages the steps (libs/audit's timeline), by the same revisions. */
export const HISTORY_SCHEMA: SchemaObject = {
  oneOf: [
    objectSchema<HistoryAnswer>({ events: arrayOf(HISTORY_ENTRY), nextFromRevision: { ...WHOLE, nullable: true }, hidden: arrayOf(FREE_OBJECT), unchecked: arrayOf(FREE_OBJECT) }, ['unchecked']),
    { type: 'object', required: ['opportunityId', 'steps', 'nextFromRevision'], properties: { opportunityId: STRING, steps: arrayOf(FREE_OBJECT), nextFromRevision: { ...WHOLE, nullable: true }, hidden: arrayOf(FREE_OBJECT) } },
  ],
};

/** The verdict of libs/audit's opportunity verification (README, "For auditors"). */
export const VERIFICATION_SCHEMA: SchemaObject = { type: 'object', required: ['opportunityId', 'ok'], properties: { opportunityId: STRING, ok: BOOLEAN }, additionalProperties: true };
