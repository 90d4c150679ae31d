import { PUBLIC_EVENT_TYPES, type PublicEventType } from './public-event.types';

// A JSON Schema (draft-07, which AsyncAPI 3's default schema format extends) per public event
// type, for the whole CloudEvents message. `data` admits exactly the documented fields: the spec
// next to this file validates every mapped event against them, so a field leaking from a private
// event fails a test instead of reaching consumers. The envelope admits further CloudEvents
// extension attributes, as the CloudEvents spec tells consumers to expect.

export type JsonSchema = Readonly<Record<string, unknown>>;

const text = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', minLength: 1, description, ...extra });

const stageSchema = (description: string): JsonSchema => ({
  type: 'object',
  description,
  additionalProperties: false,
  required: ['id', 'name'],
  properties: {
    id: text('Stage id: stable across process versions'),
    name: text("Stage name in the opportunity's process version"),
  },
});

const noteSchema = text('The note given with the command', { minLength: 0 });
// Optional, added to the .v1 won and lost events compatibly: consumers that do not know it ignore it.
const nextStepsSchema = text('What happens next, as written on the win or the loss (absent when none was written)');

const contextProperties: Readonly<Record<string, JsonSchema>> = {
  opportunityId: text('The opportunity (also the CloudEvents subject)'),
  title: text('Title after the event', { minLength: 0 }),
  processId: text('The process the opportunity runs on'),
  processVersion: text('The process version the opportunity runs on after the event'),
  teamId: text('Team after the event, when it has one'),
  ownerId: text('Owner after the event, when it has one'),
  amount: { type: 'number', description: 'Amount after the event, when it has one' },
  currency: text('ISO 4217 currency of the amount, when it has one'),
  occurredAt: text('Business time of the event (ISO 8601); equals the envelope time', { format: 'date-time' }),
  actor: {
    type: 'object',
    description: 'Who did it',
    additionalProperties: false,
    required: ['name'],
    properties: {
      name: text('The authenticated caller: an API key name, a JWT subject, cli:<user>'),
      onBehalfOf: text('The person a trusted service acted for'),
    },
  },
};
const contextRequired = ['opportunityId', 'title', 'processId', 'processVersion', 'occurredAt', 'actor'];

const criterionSchema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'description'],
  properties: { id: text('Exit criterion id'), description: text('What must be true, from the process version') },
};

/** The fields each type adds to the shared context, and which of them are required. */
const specific: Record<PublicEventType, { summary: string; properties: Record<string, JsonSchema>; required: string[] }> = {
  'stagecraft.opportunity.opened.v1': {
    summary: 'An opportunity was opened in the first stage of its process.',
    properties: { stage: stageSchema('The stage it opened in') },
    required: ['stage'],
  },
  'stagecraft.opportunity.exit-criterion-met.v1': {
    summary: "An exit criterion of the opportunity's current stage was confirmed.",
    properties: { stage: stageSchema('The stage the criterion belongs to'), criterion: criterionSchema, note: noteSchema },
    required: ['stage', 'criterion'],
  },
  'stagecraft.opportunity.exit-criterion-revoked.v1': {
    summary: 'A confirmed exit criterion was withdrawn.',
    properties: { stage: stageSchema('The stage the criterion belongs to'), criterion: criterionSchema, note: noteSchema },
    required: ['stage', 'criterion'],
  },
  'stagecraft.opportunity.stage-changed.v1': {
    summary: 'An open opportunity moved to another stage, forward or back.',
    properties: {
      from: stageSchema('The stage it left'),
      to: stageSchema('The stage it entered'),
      direction: { type: 'string', enum: ['forward', 'backward'] },
      note: noteSchema,
    },
    required: ['from', 'to', 'direction'],
  },
  'stagecraft.opportunity.won.v1': {
    summary: 'The opportunity was won.',
    properties: {
      outcome: { type: 'string', const: 'won' },
      stage: stageSchema('The stage it was won from'),
      // Optional, added compatibly as nextSteps was: a process without wonReasons records none.
      wonReason: text("One of the process version's won reasons, when it lists them (absent otherwise)"),
      note: noteSchema,
      nextSteps: nextStepsSchema,
    },
    required: ['outcome', 'stage'],
  },
  'stagecraft.opportunity.lost.v1': {
    summary: 'The opportunity was lost, with one of the process\'s lost reasons.',
    properties: {
      outcome: { type: 'string', const: 'lost' },
      stage: stageSchema('The stage it was lost in'),
      lostReason: text('One of the process version\'s lost reasons'),
      note: noteSchema,
      nextSteps: nextStepsSchema,
    },
    required: ['outcome', 'stage', 'lostReason'],
  },
  'stagecraft.opportunity.reopened.v1': {
    summary: 'A won or lost opportunity was reopened.',
    properties: {
      stage: stageSchema('The stage it reopened in'),
      previousOutcome: { type: 'string', enum: ['won', 'lost'] },
      note: noteSchema,
    },
    required: ['stage', 'previousOutcome'],
  },
  'stagecraft.opportunity.details-changed.v1': {
    summary: 'Title, team, owner, amount or currency changed.',
    properties: {
      changes: {
        type: 'object',
        description: 'Only the fields this event changed, with their new values',
        additionalProperties: false,
        minProperties: 1,
        properties: {
          title: contextProperties.title!,
          teamId: contextProperties.teamId!,
          ownerId: contextProperties.ownerId!,
          amount: contextProperties.amount!,
          currency: contextProperties.currency!,
        },
      },
    },
    required: ['changes'],
  },
  'stagecraft.opportunity.expected-close-date-changed.v1': {
    summary: 'The date an open opportunity is expected to close was set, moved or cleared.',
    properties: {
      from: { type: ['string', 'null'], pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'The expected close date before (YYYY-MM-DD), null when none was set' },
      to: { type: ['string', 'null'], pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', description: 'The expected close date now (YYYY-MM-DD), null when cleared' },
    },
    required: ['from', 'to'],
  },
  'stagecraft.opportunity.process-migrated.v1': {
    summary: 'An open opportunity moved to a newer version of its process.',
    properties: {
      fromVersion: text('The version it ran on'),
      toVersion: text('The version it runs on now'),
      fromStage: stageSchema('The stage before, named as in the old version'),
      toStage: stageSchema('The stage it continues in, named as in the new version'),
      note: noteSchema,
    },
    required: ['fromVersion', 'toVersion', 'fromStage', 'toStage'],
  },
};

export function publicEventSummary(type: PublicEventType): string {
  return specific[type].summary;
}

/** The `data` schema of one type. */
export function publicEventDataSchema(type: PublicEventType): JsonSchema {
  const { properties, required } = specific[type];
  return {
    type: 'object',
    additionalProperties: false,
    required: [...contextRequired, ...required],
    properties: { ...contextProperties, ...properties },
  };
}

/** The schema of one whole message (CloudEvents structured JSON) of the given type. */
export function publicEventSchema(type: PublicEventType): JsonSchema {
  return {
    title: type,
    description: specific[type].summary,
    type: 'object',
    required: ['specversion', 'id', 'source', 'type', 'subject', 'time', 'datacontenttype', 'stagecraftposition', 'stagecraftrevision', 'data'],
    properties: {
      specversion: { type: 'string', const: '1.0' },
      id: text("The stored event's id: the same on every retry or replay; deduplicate on it", { format: 'uuid' }),
      source: text('Where it comes from', { format: 'uri-reference' }),
      type: { type: 'string', const: type },
      subject: text('The opportunity id'),
      time: text('Business time (occurredAt)', { format: 'date-time' }),
      datacontenttype: { type: 'string', const: 'application/json' },
      stagecraftposition: text("Position in Stagecraft's global log, a decimal integer as text (increasing, not dense)", { pattern: '^[1-9][0-9]*$' }),
      stagecraftrevision: { type: 'integer', minimum: 0, description: "Revision in the opportunity's stream: order per opportunity follows it" },
      correlationid: text('Correlation id of the command that caused it (X-Correlation-Id)'),
      data: publicEventDataSchema(type),
    },
  };
}

export const PUBLIC_EVENT_SCHEMAS: Readonly<Record<PublicEventType, JsonSchema>> = Object.fromEntries(
  PUBLIC_EVENT_TYPES.map((type) => [type, publicEventSchema(type)]),
) as Record<PublicEventType, JsonSchema>;
