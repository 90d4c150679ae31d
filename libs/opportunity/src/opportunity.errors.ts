import type { ExitCriterionDefinition } from '@stagecraft/sales-process';

/** Stable codes: clients branch on them, so a shipped code is never renamed. */
export const OPPORTUNITY_ERROR_CODES = [
  'OPPORTUNITY.NOT_FOUND',
  'OPPORTUNITY.ALREADY_OPENED',
  'OPPORTUNITY.ALREADY_CLOSED',
  'OPPORTUNITY.NOT_CLOSED',
  'OPPORTUNITY.EXIT_CRITERIA_UNMET',
  'OPPORTUNITY.SKIP_NOT_ALLOWED',
  'OPPORTUNITY.BACKWARD_NOT_ALLOWED',
  'OPPORTUNITY.ALREADY_IN_STAGE',
  'OPPORTUNITY.NOT_WINNABLE_FROM_STAGE',
  'OPPORTUNITY.UNKNOWN_STAGE',
  'OPPORTUNITY.UNKNOWN_CRITERION',
  'OPPORTUNITY.INVALID_LOST_REASON',
  'OPPORTUNITY.UNKNOWN_TEAM',
  'OPPORTUNITY.INVALID_AMOUNT',
  'OPPORTUNITY.INVALID_OCCURRED_AT',
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

const list = (ids: readonly string[]): string => ids.map((id) => `"${id}"`).join(', ');

export const rejections = {
  notFound: (opportunityId: string) =>
    reject('OPPORTUNITY.NOT_FOUND', `Opportunity "${opportunityId}" does not exist; open it first.`, { opportunityId }),
  alreadyOpened: (opportunityId: string) =>
    reject('OPPORTUNITY.ALREADY_OPENED', `Opportunity "${opportunityId}" is already open; choose another id or omit it.`, {
      opportunityId,
    }),
  alreadyClosed: (status: 'won' | 'lost') =>
    reject('OPPORTUNITY.ALREADY_CLOSED', `The opportunity is ${status}; reopen it before changing it.`, { opportunityStatus: status }),
  notClosed: (stage: string) =>
    reject('OPPORTUNITY.NOT_CLOSED', `The opportunity is still open (in stage "${stage}"); only a won or lost opportunity can be reopened.`, {
      stage,
    }),
  exitCriteriaUnmet: (stage: string, action: string, unmet: readonly ExitCriterionDefinition[]) =>
    reject(
      'OPPORTUNITY.EXIT_CRITERIA_UNMET',
      `Cannot ${action}: ${unmet.length} exit ${unmet.length === 1 ? 'criterion' : 'criteria'} of stage "${stage}" ` +
        `${unmet.length === 1 ? 'is' : 'are'} not met: ${unmet.map((c) => `${c.id} (${c.description})`).join('; ')}. Mark them as met first.`,
      { stage, unmetCriteria: unmet.map(({ id, description }) => ({ id, description })) },
    ),
  skipNotAllowed: (from: string, to: string, next: string) =>
    reject(
      'OPPORTUNITY.SKIP_NOT_ALLOWED',
      `This process does not allow skipping stages: from "${from}" the next stage is "${next}", not "${to}".`,
      { from, to, nextStage: next, rule: 'allowSkipping' },
    ),
  backwardNotAllowed: (from: string, to: string) =>
    reject('OPPORTUNITY.BACKWARD_NOT_ALLOWED', `This process does not allow moving back from "${from}" to "${to}".`, {
      from,
      to,
      rule: 'allowBackward',
    }),
  alreadyInStage: (stage: string) =>
    reject('OPPORTUNITY.ALREADY_IN_STAGE', `The opportunity is already in stage "${stage}".`, { stage }),
  notWinnableFromStage: (stage: string, winFrom: readonly string[]) =>
    reject(
      'OPPORTUNITY.NOT_WINNABLE_FROM_STAGE',
      `An opportunity cannot be won from stage "${stage}"; this process allows winning from ${list(winFrom)}.`,
      { stage, winFrom, rule: 'winFrom' },
    ),
  unknownStage: (stage: string, known: readonly string[]) =>
    reject('OPPORTUNITY.UNKNOWN_STAGE', `The process has no stage "${stage}"; its stages are ${list(known)}.`, { stage, knownStages: known }),
  unknownCriterion: (criterionId: string, stage: string, known: readonly string[]) =>
    reject(
      'OPPORTUNITY.UNKNOWN_CRITERION',
      known.length === 0
        ? `Stage "${stage}" has no exit criteria, so "${criterionId}" cannot be marked.`
        : `Stage "${stage}" has no exit criterion "${criterionId}"; its criteria are ${list(known)}.`,
      { criterionId, stage, knownCriteria: known },
    ),
  invalidLostReason: (reason: string, known: readonly string[]) =>
    reject('OPPORTUNITY.INVALID_LOST_REASON', `"${reason}" is not a lost reason of this process; use one of ${list(known)}.`, {
      reason,
      lostReasons: known,
    }),
  unknownTeam: (teamId: string, known: readonly string[]) =>
    reject('OPPORTUNITY.UNKNOWN_TEAM', `Team "${teamId}" does not run this process; its teams are ${list(known)}.`, {
      teamId,
      teams: known,
    }),
  invalidAmount: (amount: unknown) =>
    reject('OPPORTUNITY.INVALID_AMOUNT', `The amount must be a finite number of at least 0 (got ${String(amount)}).`, { amount }),
  invalidOccurredAt: (occurredAt: string) =>
    reject('OPPORTUNITY.INVALID_OCCURRED_AT', `occurredAt must be an ISO 8601 date-time with a time zone (got "${occurredAt}").`, {
      occurredAt,
    }),
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
  unknownProcessVersion: (processId: string, version: string) =>
    reject('OPPORTUNITY.UNKNOWN_PROCESS_VERSION', `Process "${processId}" has no recorded version "${version}"; GET /processes/${processId} lists its versions.`, {
      processId,
      version,
    }),
  notANewerVersion: (fromVersion: string, toVersion: string) =>
    reject(
      'OPPORTUNITY.NOT_A_NEWER_VERSION',
      fromVersion === toVersion
        ? `The opportunity already runs on version "${toVersion}".`
        : `Version "${toVersion}" was recorded before "${fromVersion}", the one the opportunity runs on; migrations only go to newer versions.`,
      { fromVersion, toVersion },
    ),
  unmappedStage: (stage: string, toVersion: string, known: readonly string[]) =>
    reject(
      'OPPORTUNITY.UNMAPPED_STAGE',
      `Version "${toVersion}" has no stage "${stage}", where the opportunity is; give stageMapping {"${stage}": <one of ${list(known)}>}.`,
      { stage, toVersion, knownStages: known },
    ),
  invalidStageMapping: (from: string, to: string, problem: 'unknown-source-stage' | 'unknown-target-stage', known: readonly string[]) =>
    reject(
      'OPPORTUNITY.INVALID_STAGE_MAPPING',
      problem === 'unknown-source-stage'
        ? `stageMapping maps "${from}", which is not a stage of the version the opportunity runs on (${list(known)}).`
        : `stageMapping maps "${from}" to "${to}", which is not a stage of the target version (${list(known)}).`,
      { from, to, problem, knownStages: known },
    ),
};
