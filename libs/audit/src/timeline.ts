import { evolve, storedInstant, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import { toOpportunityEvent } from './as-of';
import type { StoredEventLike } from './stored-event-like';

/** Enough of a process version to name stages and criteria (a CompiledProcess fits). */
export interface TimelineProcess {
  stage(stageId: string): { readonly name: string; readonly exitCriteria: readonly { readonly id: string; readonly description: string }[] } | undefined;
}
/** Finds a process version by id and version; undefined when unknown (names are then left out). */
export type TimelineProcessResolver = (processId: string, version: string) => TimelineProcess | undefined;

/** A criterion that was met when the opportunity moved: the evidence for the move. */
export interface TimelineEvidence {
  readonly criterionId: string;
  readonly description: string | null;
  readonly metAt: string;
  readonly metBy: string | null;
  readonly note: string | null;
  readonly revision: number;
}

export type TimelineStepKind = 'opened' | 'moved' | 'won' | 'lost' | 'reopened' | 'migrated' | 'expected-close-date-changed';

/**
 * One step of an opportunity's life. Won and lost appear as the pseudo-stages "won" / "lost"
 * (ids a process may not use), so a reopen reads "lost → qualification".
 */
export interface TimelineStep {
  readonly revision: number;
  readonly kind: TimelineStepKind;
  readonly type: string;
  readonly occurredAt: string;
  readonly recordedAt: string | null;
  readonly stageBefore: string | null;
  readonly stageBeforeName: string | null;
  readonly stageAfter: string;
  readonly stageAfterName: string | null;
  readonly direction: 'forward' | 'backward' | null;
  /**
   * Seconds spent in the stage (or outcome) left, from entering it to this step; null when opening,
   * and when either end's business time is no instant (a log edited outside the service).
   */
  readonly secondsInStageLeft: number | null;
  readonly actor: string | null;
  readonly onBehalfOf: string | null;
  /** Criteria of the stage left that were met at the moment of the step, in the order they were met. */
  readonly criteriaMet: readonly TimelineEvidence[];
  readonly note: string | null;
  /** Lost reason, for a loss; won reason, for a win of a process that lists wonReasons. */
  readonly reason: string | null;
  /** What happens next, as written on a win or a loss. */
  readonly nextSteps: string | null;
  /** For an expected-close-date step: the date before and after (YYYY-MM-DD, null: none); the stage stays. */
  readonly expectedCloseDateBefore: string | null;
  readonly expectedCloseDateAfter: string | null;
  readonly processVersion: string;
  /** For a migration: the version left. */
  readonly fromVersion: string | null;
}

/**
 * The readable history of one opportunity stream (events in revision order): one step per
 * stage change, win, loss, reopen or migration, with the evidence each move stood on, and one per
 * push or pull-in of the expected close date (a step in time, not between stages: the stage and
 * the evidence gathered so far stay).
 */
export function timelineOf(events: readonly StoredEventLike[], resolveProcess: TimelineProcessResolver = () => undefined): TimelineStep[] {
  const steps: TimelineStep[] = [];
  let state: OpportunityState = { status: 'none' };
  // Where the opportunity stands (a stage id, or "won"/"lost") and since when.
  let position: { stage: string; since: string } | undefined;
  let evidence: TimelineEvidence[] = [];

  for (const stored of events) {
    const event = toOpportunityEvent(stored);
    const before = state;
    state = evolve(state, event);
    if (state.status === 'none') continue;
    const processBefore = before.status === 'none' ? undefined : resolveProcess(before.processId, before.processVersion);
    const processAfter = resolveProcess(state.processId, state.processVersion);
    const actor = typeof stored.metadata.actor === 'string' ? stored.metadata.actor : null;
    const { occurredAt } = event.data;

    if (event.type === 'ExitCriterionMet') {
      const description = processAfter?.stage(event.data.stage)?.exitCriteria.find((criterion) => criterion.id === event.data.criterionId)?.description ?? null;
      evidence.push({ criterionId: event.data.criterionId, description, metAt: occurredAt, metBy: actor, note: event.data.note ?? null, revision: stored.revision });
      continue;
    }
    if (event.type === 'ExitCriterionRevoked') {
      evidence = evidence.filter((item) => item.criterionId !== event.data.criterionId);
      continue;
    }
    // Not a move: the raw history (view=events) lists it.
    if (event.type === 'OpportunityDetailsChanged' || event.type === 'NoChangeRecorded') continue;
    if (event.type === 'ExpectedCloseDateChanged') {
      const stage = state.status === 'open' ? state.stage : state.status;
      steps.push({
        revision: stored.revision,
        kind: 'expected-close-date-changed',
        type: event.type,
        occurredAt,
        recordedAt: recordedAtOf(stored),
        stageBefore: stage,
        stageBeforeName: nameOf(processAfter, stage) ?? null,
        stageAfter: stage,
        stageAfterName: nameOf(processAfter, stage) ?? null,
        direction: null,
        secondsInStageLeft: null,
        actor,
        onBehalfOf: typeof stored.metadata.onBehalfOf === 'string' ? stored.metadata.onBehalfOf : null,
        criteriaMet: [],
        note: null,
        reason: null,
        nextSteps: null,
        processVersion: state.processVersion,
        fromVersion: null,
        expectedCloseDateBefore: event.data.from,
        expectedCloseDateAfter: event.data.to,
      });
      continue;
    }

    const stageAfter = state.status === 'open' ? state.stage : state.status;
    const step: TimelineStep = {
      revision: stored.revision,
      kind: kindOf(event),
      type: event.type,
      occurredAt,
      recordedAt: recordedAtOf(stored),
      stageBefore: position?.stage ?? null,
      stageBeforeName: position ? (nameOf(processBefore, position.stage) ?? null) : null,
      stageAfter,
      stageAfterName: nameOf(processAfter, stageAfter) ?? null,
      direction: event.type === 'StageChanged' ? event.data.direction : null,
      secondsInStageLeft: position ? secondsBetween(position.since, occurredAt) : null,
      actor,
      onBehalfOf: typeof stored.metadata.onBehalfOf === 'string' ? stored.metadata.onBehalfOf : null,
      criteriaMet: evidence,
      note: 'note' in event.data && typeof event.data.note === 'string' ? event.data.note : null,
      reason: event.type === 'OpportunityLost' || event.type === 'OpportunityWon' ? (event.data.reason ?? null) : null,
      nextSteps: event.type === 'OpportunityLost' || event.type === 'OpportunityWon' ? (event.data.nextSteps ?? null) : null,
      processVersion: state.processVersion,
      fromVersion: event.type === 'ProcessMigrated' ? event.data.fromVersion : null,
      expectedCloseDateBefore: null,
      expectedCloseDateAfter: null,
    };
    steps.push(step);
    if (event.type === 'ProcessMigrated') {
      // The visit goes on under the mapped id: same entry time, the kept criteria stay as evidence.
      position = { stage: stageAfter, since: position?.since ?? occurredAt };
      evidence = evidence.filter((item) => event.data.criteriaKept.includes(item.criterionId));
    } else {
      position = { stage: stageAfter, since: occurredAt };
      evidence = [];
    }
  }
  return steps;
}

function kindOf(event: OpportunityEvent): TimelineStepKind {
  switch (event.type) {
    case 'OpportunityOpened':
      return 'opened';
    case 'StageChanged':
      return 'moved';
    case 'OpportunityWon':
      return 'won';
    case 'OpportunityLost':
      return 'lost';
    case 'OpportunityReopened':
      return 'reopened';
    case 'ProcessMigrated':
      return 'migrated';
    default:
      throw new Error(`${event.type} is not a step`);
  }
}

function nameOf(process: TimelineProcess | undefined, stage: string): string | undefined {
  if (stage === 'won') return 'Won';
  if (stage === 'lost') return 'Lost';
  return process?.stage(stage)?.name;
}

function recordedAtOf(event: StoredEventLike): string | null {
  if (typeof event.metadata.recordedAt === 'string') return event.metadata.recordedAt;
  return event.recordedAt ?? null;
}

/**
 * Seconds from one business time to another; null where either is no instant (NaN would pass for a
 * number). Read as the as-of reads do (ISO text with a zone): Date.parse would time a visit from an
 * edited 5 (2001), a date alone or a zone-less time (this machine's) as if it were an instant.
 */
function secondsBetween(from: string, to: string): number | null {
  const seconds = (storedInstant(to) - storedInstant(from)) / 1000;
  return Number.isFinite(seconds) ? seconds : null;
}
