// Events are facts, named in the past tense. A shipped event type is never renamed or changed
// incompatibly: add a new type (…V2) and an upcaster instead.

interface EventBase<Type extends string, Data> {
  readonly type: Type;
  readonly data: Data & { readonly opportunityId: string; readonly occurredAt: string };
}

export type OpportunityOpened = EventBase<
  'OpportunityOpened',
  {
    readonly processId: string;
    readonly processVersion: string;
    readonly stage: string;
    readonly title: string;
    readonly teamId?: string;
    readonly ownerId?: string;
    readonly amount?: number;
    readonly currency?: string;
  }
>;
export type ExitCriterionMet = EventBase<'ExitCriterionMet', { readonly stage: string; readonly criterionId: string; readonly note?: string }>;
export type ExitCriterionRevoked = EventBase<'ExitCriterionRevoked', { readonly stage: string; readonly criterionId: string; readonly note?: string }>;
export type StageChanged = EventBase<'StageChanged', { readonly from: string; readonly to: string; readonly direction: 'forward' | 'backward'; readonly note?: string }>;
/** `reason`: one of the process's wonReasons, when it lists them. `nextSteps`: what happens after the win, as written. */
export type OpportunityWon = EventBase<'OpportunityWon', { readonly stage: string; readonly amount?: number; readonly reason?: string; readonly note?: string; readonly nextSteps?: string }>;
/** `nextSteps`: what happens after the loss (a follow-up, a date to call again), as written. */
export type OpportunityLost = EventBase<'OpportunityLost', { readonly stage: string; readonly reason: string; readonly note?: string; readonly nextSteps?: string }>;
export type OpportunityReopened = EventBase<'OpportunityReopened', { readonly stage: string; readonly note?: string }>;
/**
 * When the deal is expected to close moved: a calendar date YYYY-MM-DD (no zone: a day), or null
 * for none. Its own event, so every push and pull-in stays in the history with its time and actor.
 */
export type ExpectedCloseDateChanged = EventBase<'ExpectedCloseDateChanged', { readonly from: string | null; readonly to: string | null }>;
export type OpportunityDetailsChanged = EventBase<'OpportunityDetailsChanged', Partial<OpportunityDetails>>;
/**
 * An open opportunity moved to a newer version of its process. Past visits keep the stage ids
 * they had; the open visit continues (same entry time) under `toStage`. `criteriaKept` are the
 * criteria met in this visit that the target stage also has: decided once, so replay needs no
 * process definition.
 */
export type ProcessMigrated = EventBase<
  'ProcessMigrated',
  {
    readonly processId: string;
    readonly fromVersion: string;
    readonly toVersion: string;
    /** Old stage id → new stage id, as given; stages not listed keep their id. */
    readonly stageMapping: Readonly<Record<string, string>>;
    readonly fromStage: string;
    readonly toStage: string;
    readonly criteriaKept: readonly string[];
    readonly note?: string;
  }
>;

/**
 * A command sent with a client's key (Idempotency-Key) that was accepted and changed nothing: a
 * criterion already met, details as they were. Recorded so that the key is remembered in the
 * history like any other (its metadata carries it): a retry, however late, is answered as the
 * first was, and never decided again on what the deal has become since (which would overwrite a
 * later change with the retried one). `command`: the command's type. The state stays as it was.
 */
export type NoChangeRecorded = EventBase<'NoChangeRecorded', { readonly command: string }>;

export interface OpportunityDetails {
  readonly title: string;
  readonly teamId: string;
  readonly ownerId: string;
  readonly amount: number;
  readonly currency: string;
}

export type OpportunityEvent =
  | OpportunityOpened
  | ExitCriterionMet
  | ExitCriterionRevoked
  | StageChanged
  | OpportunityWon
  | OpportunityLost
  | OpportunityReopened
  | OpportunityDetailsChanged
  | ProcessMigrated
  | ExpectedCloseDateChanged
  | NoChangeRecorded;

export type OpportunityEventType = OpportunityEvent['type'];

export const OPPORTUNITY_EVENT_TYPES: readonly OpportunityEventType[] = [
  'OpportunityOpened',
  'ExitCriterionMet',
  'ExitCriterionRevoked',
  'StageChanged',
  'OpportunityWon',
  'OpportunityLost',
  'OpportunityReopened',
  'OpportunityDetailsChanged',
  'ProcessMigrated',
  'ExpectedCloseDateChanged',
  'NoChangeRecorded',
];

export function isOpportunityEventType(type: string): type is OpportunityEventType {
  return (OPPORTUNITY_EVENT_TYPES as readonly string[]).includes(type);
}
