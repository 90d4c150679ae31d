import { PROCESS_RULE_CODES, quotedValue, type RuleViolation } from '@stagecraft/sales-process';
import { AMOUNT_RULE } from './amount';
import { CALENDAR_DATE_RULE } from './calendar-date';
import { INSTANT_RULE } from './instant';
import { TEXT_RULE } from './storable-text';

/**
 * Stable codes: clients branch on them, so a shipped code is never renamed. The codes of the
 * process's rules (skip, backward, exit criteria, winFrom, lost reasons, teams…) come with the rule
 * table of libs/sales-process, which also writes their explanations.
 */
export const OPPORTUNITY_ERROR_CODES = [
  ...PROCESS_RULE_CODES,
  'OPPORTUNITY.NOT_FOUND',
  'OPPORTUNITY.ALREADY_OPENED',
  'OPPORTUNITY.ALREADY_CLOSED',
  'OPPORTUNITY.NOT_CLOSED',
  'OPPORTUNITY.UNKNOWN_CRITERION',
  'OPPORTUNITY.INVALID_AMOUNT',
  'OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE',
  'OPPORTUNITY.INVALID_OCCURRED_AT',
  'OPPORTUNITY.INVALID_TEXT',
  'OPPORTUNITY.OCCURRED_AT_BEFORE_LAST_EVENT',
  'OPPORTUNITY.OCCURRED_AT_IN_FUTURE',
  'OPPORTUNITY.UNKNOWN_PROCESS_VERSION',
  'OPPORTUNITY.NOT_A_NEWER_VERSION',
  'OPPORTUNITY.UNMAPPED_STAGE',
  'OPPORTUNITY.INVALID_STAGE_MAPPING',
] as const;

export type OpportunityErrorCode = (typeof OPPORTUNITY_ERROR_CODES)[number];

/** An expected refusal: a typed result, mapped to a response at the edge, never thrown. */
export interface OpportunityRejection {
  readonly code: OpportunityErrorCode;
  /** Says what is wrong and what would make the command acceptable. */
  readonly message: string;
  readonly details: Readonly<Record<string, unknown>>;
}

const reject = (code: OpportunityErrorCode, message: string, details: Record<string, unknown> = {}): OpportunityRejection => ({
  code,
  message,
  details,
});

const list = (ids: readonly string[]): string => ids.map((id) => quotedValue(id)).join(', ');

/** A rule of the process refused the step: its own code, message and details. */
export const ruleRejection = ({ code, message, details }: RuleViolation): OpportunityRejection => reject(code, message, details);

export const rejections = {
  notFound: (opportunityId: string) =>
    reject('OPPORTUNITY.NOT_FOUND', `Opportunity ${quotedValue(opportunityId)} does not exist; open it first.`, { opportunityId }),
  alreadyOpened: (opportunityId: string) =>
    reject('OPPORTUNITY.ALREADY_OPENED', `Opportunity ${quotedValue(opportunityId)} is already open; choose another id or omit it.`, {
      opportunityId,
    }),
  alreadyClosed: (status: 'won' | 'lost') =>
    reject('OPPORTUNITY.ALREADY_CLOSED', `The opportunity is ${status}; reopen it before changing it.`, { opportunityStatus: status }),
  notClosed: (stage: string) =>
    reject('OPPORTUNITY.NOT_CLOSED', `The opportunity is still open (in stage ${quotedValue(stage)}); only a won or lost opportunity can be reopened.`, {
      stage,
    }),
  unknownCriterion: (criterionId: string, stage: string, known: readonly string[]) =>
    reject(
      'OPPORTUNITY.UNKNOWN_CRITERION',
      known.length === 0
        ? `Stage ${quotedValue(stage)} has no exit criteria, so ${quotedValue(criterionId)} cannot be marked.`
        : `Stage ${quotedValue(stage)} has no exit criterion ${quotedValue(criterionId)}; its criteria are ${list(known)}.`,
      { criterionId, stage, knownCriteria: known },
    ),
  invalidAmount: (amount: unknown) =>
    reject('OPPORTUNITY.INVALID_AMOUNT', `The amount must be ${AMOUNT_RULE} (got ${String(amount)}).`, { amount }),
  invalidExpectedCloseDate: (expectedCloseDate: unknown) =>
    reject('OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE', `expectedCloseDate must be ${CALENDAR_DATE_RULE} (got ${quotedValue(expectedCloseDate)}).`, {
      expectedCloseDate,
    }),
  invalidOccurredAt: (occurredAt: string) =>
    reject('OPPORTUNITY.INVALID_OCCURRED_AT', `occurredAt must be ${INSTANT_RULE} (got ${quotedValue(occurredAt)}).`, {
      occurredAt,
    }),
  invalidText: (field: string, reason: string) =>
    reject('OPPORTUNITY.INVALID_TEXT', `${field} ${reason}; it must be ${TEXT_RULE}.`, { field }),
  occurredAtBeforeLastEvent: (occurredAt: string, lastOccurredAt: string) =>
    reject(
      'OPPORTUNITY.OCCURRED_AT_BEFORE_LAST_EVENT',
      `occurredAt ${occurredAt} is before this opportunity's latest event (${lastOccurredAt}); history is recorded in order.`,
      { occurredAt, lastOccurredAt },
    ),
  occurredAtInFuture: (occurredAt: string, now: string) =>
    reject('OPPORTUNITY.OCCURRED_AT_IN_FUTURE', `occurredAt ${occurredAt} lies in the future (server time ${now}).`, {
      occurredAt,
      now,
    }),
  /** `field`: the body field that named it (a bulk migration names two versions). */
  unknownProcessVersion: (processId: string, version: string, field: 'toVersion' | 'fromVersion' = 'toVersion') =>
    reject('OPPORTUNITY.UNKNOWN_PROCESS_VERSION', `${field}: process ${quotedValue(processId)} has no recorded version ${quotedValue(version)}; GET /processes/${processId} lists its versions.`, {
      processId,
      version,
      field,
    }),
  /** `fromWhat`: what fromVersion is (one opportunity's version, or the one a bulk migration names). */
  notANewerVersion: (fromVersion: string, toVersion: string, fromWhat = 'the version the opportunity runs on') =>
    reject(
      'OPPORTUNITY.NOT_A_NEWER_VERSION',
      fromVersion === toVersion
        ? `toVersion ${quotedValue(toVersion)} is ${fromWhat}; migrations only go to a version recorded after it (GET /processes/<id> lists them, oldest first).`
        : `Version ${quotedValue(toVersion)} was recorded before ${quotedValue(fromVersion)}, ${fromWhat}; migrations only go to newer versions.`,
      { fromVersion, toVersion },
    ),
  unmappedStage: (stage: string, toVersion: string, known: readonly string[]) =>
    reject(
      'OPPORTUNITY.UNMAPPED_STAGE',
      `Version ${quotedValue(toVersion)} has no stage ${quotedValue(stage)}, where the opportunity is; give stageMapping {${quotedValue(stage)}: <one of ${list(known)}>}.`,
      { stage, toVersion, knownStages: known },
    ),
  /** `known`: the stages named in the message (for past-next-stage, those `from` may map to). */
  invalidStageMapping: (from: string, to: string, problem: 'unknown-source-stage' | 'unknown-target-stage' | 'stage-still-exists' | 'past-next-stage' | 'kept-stage-past-next-stage', known: readonly string[]) =>
    reject(
      'OPPORTUNITY.INVALID_STAGE_MAPPING',
      problem === 'unknown-source-stage'
        ? `stageMapping maps ${quotedValue(from)}, which is not a stage of the version the opportunity runs on (${list(known)}).`
        : problem === 'unknown-target-stage'
          ? `stageMapping maps ${quotedValue(from)} to ${quotedValue(to)}, which is not a stage of the target version (${list(known)}).`
          : problem === 'stage-still-exists'
            ? `stageMapping maps ${quotedValue(from)} to ${quotedValue(to)}, but the target version still has stage ${quotedValue(from)}: a stage that stays keeps its id. Moving a deal to another stage is a move, under the process's rules.`
            : problem === 'kept-stage-past-next-stage'
              ? `The target version puts stage ${quotedValue(from)}, where the opportunity is, past ${quotedValue(known[known.length - 1])}, as far as a deal in ${quotedValue(from)} may stand in it (a stage it never reached now comes before it: kept there, it would skip that stage and its exit criteria). Give stageMapping {${quotedValue(from)}: <one of ${list(known)}>}, then move the deal under the process's rules.`
            : `stageMapping maps ${quotedValue(from)} to ${quotedValue(to)}, past ${quotedValue(known[known.length - 1])}, as far as a deal in ${quotedValue(from)} may stand in the target version (past it, it would skip a stage it never reached, and its exit criteria). Map ${quotedValue(from)} to one of ${list(known)}, then move the deal under the process's rules.`,
      { from, to, problem, knownStages: known },
    ),
};
