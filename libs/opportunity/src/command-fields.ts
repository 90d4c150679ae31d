// What each field of a command body may be: the one table the API's DTOs
// (apps/api/src/opportunities/opportunity.dto.ts, whose spec proves the two agree field by field)
// and every other door to the executor (the CLI's import of an export or of a backfill) check.
// decide() trusts these values (a title is recorded as given), so a door that skipped them
// recorded what the API refuses: a title {"a": 1}, of 5,000 characters or of spaces only, a
// currency "eur". Judgements that need the process or the stream (a known stage, a lost reason
// the process lists, business time after the last event) stay decide()'s.

import { VISIBLE_CHARACTER } from '@stagecraft/sales-process';
import { isValidAmount, AMOUNT_RULE } from './amount';
import { CLIENT_ID, CLIENT_ID_MAX_LENGTH, clientIdRule } from './client-id';
import { INSTANT_RULE, parseInstant } from './instant';
import type { OpportunityCommand } from './opportunity.commands';

/** A deal's title. */
export const TITLE_MAX_LENGTH = 200;
/** A note, and the next steps recorded with a win or a loss. */
export const NOTE_MAX_LENGTH = 2000;
/** The names a command gives of its process's things: a process, stage, criterion, reason or version. */
export const NAME_MAX_LENGTH = 64;
/** An expected close date as text; decide() judges it as a calendar date. */
export const EXPECTED_CLOSE_DATE_MAX_LENGTH = 40;
/** A title, a note and next steps hold a visible character: the board and the timeline show them (process names follow the same rule). */
export { VISIBLE_CHARACTER };
export const CURRENCY_CODE = /^[A-Z]{3}$/;
export const CURRENCY_RULE = 'an ISO 4217 code of 3 capital letters, such as EUR';
export const STAGE_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const STAGE_MAPPING_MAX_ENTRIES = 100;
export const STAGE_MAPPING_RULE = 'an object mapping stage ids to stage ids, such as {"qualification": "discovery"}';

/** What one field may hold, in terms the API's class-validator decorators and the import both read. */
export type FieldRule =
  /** A string (of `length` characters, counted as the API counts them, and matching `pattern`). */
  | { readonly kind: 'text'; readonly length?: readonly [min: number, max: number]; readonly pattern?: RegExp; readonly rule: string }
  | { readonly kind: 'amount' }
  | { readonly kind: 'instant' }
  | { readonly kind: 'stage-mapping' };

export interface FieldSpec {
  readonly rule: FieldRule;
  /** The body must carry it. */
  readonly required: boolean;
  /** null is taken (and means "clear it"); otherwise null is judged like any other value. */
  readonly nullable: boolean;
}

type FieldsOf<Command> = Exclude<keyof Command, 'type' | 'opportunityId' | 'now'>;

/** Every field of every command (the compiler holds a new field of a command to a rule here). */
export type CommandFieldTable = {
  readonly [Type in OpportunityCommand['type']]: { readonly [Field in FieldsOf<Extract<OpportunityCommand, { type: Type }>>]-?: FieldSpec };
};

const text = (min: number, max: number, rule = `a string of ${min} to ${max} characters`, pattern?: RegExp): FieldRule => ({ kind: 'text', length: [min, max], rule, ...(pattern ? { pattern } : {}) });
const required = (rule: FieldRule): FieldSpec => ({ rule, required: true, nullable: false });
const optional = (rule: FieldRule): FieldSpec => ({ rule, required: false, nullable: false });

const TITLE = text(1, TITLE_MAX_LENGTH, `a string of 1 to ${TITLE_MAX_LENGTH} characters with a visible character`, VISIBLE_CHARACTER);
const CLIENT_ID_FIELD = text(1, CLIENT_ID_MAX_LENGTH, clientIdRule(CLIENT_ID_MAX_LENGTH), CLIENT_ID);
const PROCESS_ID = text(1, NAME_MAX_LENGTH, clientIdRule(NAME_MAX_LENGTH), CLIENT_ID);
const NAME = text(1, NAME_MAX_LENGTH);
// A note or next steps is shown in the timeline and on the closed card: one that draws nothing is no note (the title's rule).
const NOTE = optional(text(1, NOTE_MAX_LENGTH, `a string of 1 to ${NOTE_MAX_LENGTH} characters with a visible character`, VISIBLE_CHARACTER));
const CURRENCY: FieldRule = { kind: 'text', pattern: CURRENCY_CODE, rule: CURRENCY_RULE };
const AMOUNT = optional({ kind: 'amount' });
const OCCURRED_AT = optional({ kind: 'instant' });
const EXPECTED_CLOSE_DATE: FieldSpec = { rule: text(1, EXPECTED_CLOSE_DATE_MAX_LENGTH), required: false, nullable: true };

export const COMMAND_FIELDS: CommandFieldTable = {
  OpenOpportunity: {
    occurredAt: OCCURRED_AT,
    title: required(TITLE),
    processId: required(PROCESS_ID),
    teamId: optional(CLIENT_ID_FIELD),
    ownerId: optional(CLIENT_ID_FIELD),
    amount: AMOUNT,
    currency: optional(CURRENCY),
    expectedCloseDate: EXPECTED_CLOSE_DATE,
  },
  MeetExitCriterion: { occurredAt: OCCURRED_AT, criterionId: required(NAME), note: NOTE },
  RevokeExitCriterion: { occurredAt: OCCURRED_AT, criterionId: required(NAME), note: NOTE },
  MoveOpportunityToStage: { occurredAt: OCCURRED_AT, stage: required(NAME), note: NOTE },
  WinOpportunity: { occurredAt: OCCURRED_AT, reason: optional(NAME), note: NOTE, nextSteps: NOTE },
  LoseOpportunity: { occurredAt: OCCURRED_AT, reason: required(NAME), note: NOTE, nextSteps: NOTE },
  ReopenOpportunity: { occurredAt: OCCURRED_AT, stage: optional(NAME), note: NOTE },
  ChangeOpportunityDetails: {
    occurredAt: OCCURRED_AT,
    title: optional(TITLE),
    teamId: optional(CLIENT_ID_FIELD),
    ownerId: optional(CLIENT_ID_FIELD),
    amount: AMOUNT,
    currency: optional(CURRENCY),
    expectedCloseDate: EXPECTED_CLOSE_DATE,
  },
  MigrateOpportunity: { occurredAt: OCCURRED_AT, toVersion: required(NAME), stageMapping: optional({ kind: 'stage-mapping' }), note: NOTE },
};

/** A field of a command body that breaks its rule: what it must be, and what it was. */
export interface CommandFieldFault {
  readonly field: string;
  /** "is required", or "must be …". */
  readonly reason: string;
  readonly value: unknown;
}

/** The first field of `command` that breaks its rule in COMMAND_FIELDS, or undefined when every one keeps it. */
export function commandFieldFault(command: { readonly type: OpportunityCommand['type'] }): CommandFieldFault | undefined {
  const body = command as unknown as Readonly<Record<string, unknown>>;
  for (const [field, spec] of Object.entries(COMMAND_FIELDS[command.type] as Readonly<Record<string, FieldSpec>>)) {
    const value = Object.hasOwn(body, field) ? body[field] : undefined;
    if (value === undefined) {
      if (spec.required) return { field, reason: 'is required', value };
      continue;
    }
    if (value === null && spec.nullable) continue;
    if (!fitsRule(spec.rule, value)) return { field, reason: `must be ${ruleText(spec.rule)}`, value };
  }
  return undefined;
}

/** Whether `value` keeps `rule` (a value of any kind: it may come from a file). */
export function fitsRule(rule: FieldRule, value: unknown): boolean {
  switch (rule.kind) {
    case 'text':
      if (typeof value !== 'string') return false;
      if (rule.length && !withinLength(value, rule.length[0], rule.length[1])) return false;
      return rule.pattern === undefined || rule.pattern.test(value);
    case 'amount':
      return isValidAmount(value);
    case 'instant':
      return typeof value === 'string' && parseInstant(value) !== undefined;
    case 'stage-mapping':
      return isStageMapping(value);
  }
}

export function ruleText(rule: FieldRule): string {
  switch (rule.kind) {
    case 'text':
      return rule.rule;
    case 'amount':
      return AMOUNT_RULE;
    case 'instant':
      return INSTANT_RULE;
    case 'stage-mapping':
      return STAGE_MAPPING_RULE;
  }
}

/** An object of at most STAGE_MAPPING_MAX_ENTRIES stage id → stage id. */
export function isStageMapping(value: unknown): value is Readonly<Record<string, string>> {
  return (
    value !== null &&
    typeof value === 'object' &&
    !Array.isArray(value) &&
    Object.keys(value).length <= STAGE_MAPPING_MAX_ENTRIES &&
    Object.entries(value).every(([from, to]) => STAGE_ID.test(from) && typeof to === 'string' && STAGE_ID.test(to))
  );
}

/**
 * A length as the API's Length rule counts it (validator.js isLength): a surrogate pair is one
 * character, and so is a character with the variation selector after it, so a title of 200
 * emoji the API takes is taken here too.
 */
function withinLength(value: string, min: number, max: number): boolean {
  const selectors = value.match(/[^\uFE0F\uFE0E][\uFE0F\uFE0E]/g)?.length ?? 0;
  const pairs = value.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0;
  const length = value.length - selectors - pairs;
  return length >= min && length <= max;
}
