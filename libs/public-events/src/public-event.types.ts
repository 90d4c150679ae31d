// The public contract: what Stagecraft tells other services, as CloudEvents 1.0 (JSON format).
// These shapes are frozen per version: a `.v1` payload never changes when the private events do
// (public-event.mapping.ts builds each field explicitly; public-event.schemas.ts pins them).

/** Every public event type, as its CloudEvents `type`. The NATS subject and AMQP routing key are built from it. */
export const PUBLIC_EVENT_TYPES = [
  'stagecraft.opportunity.opened.v1',
  'stagecraft.opportunity.exit-criterion-met.v1',
  'stagecraft.opportunity.exit-criterion-revoked.v1',
  'stagecraft.opportunity.stage-changed.v1',
  'stagecraft.opportunity.won.v1',
  'stagecraft.opportunity.lost.v1',
  'stagecraft.opportunity.reopened.v1',
  'stagecraft.opportunity.details-changed.v1',
  'stagecraft.opportunity.process-migrated.v1',
  'stagecraft.opportunity.expected-close-date-changed.v1',
] as const;

export type PublicEventType = (typeof PUBLIC_EVENT_TYPES)[number];

/** The common prefix of every type: `<prefix>.<name>.v1`. */
export const PUBLIC_EVENT_TYPE_PREFIX = 'stagecraft.opportunity';

/** The CloudEvents `source` of every event Stagecraft publishes. */
export const PUBLIC_EVENT_SOURCE = '/stagecraft/opportunities';

/** A stage as consumers see it: its id (stable) and its name in the opportunity's process version. */
export interface PublicStage {
  readonly id: string;
  readonly name: string;
}

export interface PublicActor {
  /** The authenticated caller (an API key's name, a JWT subject, `cli:<user>`). */
  readonly name: string;
  /** The person a trusted service acted for, when it said so. */
  readonly onBehalfOf?: string;
}

/** What every event's data carries: the opportunity as it stands right after the event, and who did it. */
export interface PublicOpportunityContext {
  readonly opportunityId: string;
  readonly title: string;
  readonly processId: string;
  /** The process version the opportunity runs on after the event (see GET /processes/:id/machine?version=). */
  readonly processVersion: string;
  readonly teamId?: string;
  readonly ownerId?: string;
  readonly amount?: number;
  readonly currency?: string;
  /** Business time of the event (ISO 8601, UTC); the same as the envelope's `time`. */
  readonly occurredAt: string;
  readonly actor: PublicActor;
}

export interface OpenedData extends PublicOpportunityContext {
  readonly stage: PublicStage;
}
export interface ExitCriterionData extends PublicOpportunityContext {
  readonly stage: PublicStage;
  readonly criterion: { readonly id: string; readonly description: string };
  readonly note?: string;
}
export interface StageChangedData extends PublicOpportunityContext {
  readonly from: PublicStage;
  readonly to: PublicStage;
  readonly direction: 'forward' | 'backward';
  readonly note?: string;
}
export interface WonData extends PublicOpportunityContext {
  readonly outcome: 'won';
  /** The stage it was won from. */
  readonly stage: PublicStage;
  /** One of the process version's won reasons, when it lists them (absent otherwise). */
  readonly wonReason?: string;
  readonly note?: string;
  /** What happens next, as written on the win. */
  readonly nextSteps?: string;
}
export interface LostData extends PublicOpportunityContext {
  readonly outcome: 'lost';
  /** The stage it was lost in. */
  readonly stage: PublicStage;
  readonly lostReason: string;
  readonly note?: string;
  /** What happens next, as written on the loss. */
  readonly nextSteps?: string;
}
export interface ReopenedData extends PublicOpportunityContext {
  /** The stage it reopened in. */
  readonly stage: PublicStage;
  /** The outcome it had before reopening. */
  readonly previousOutcome: 'won' | 'lost';
  readonly note?: string;
}
export interface DetailsChangedData extends PublicOpportunityContext {
  /** Only the fields this event changed, with their new values (the context shows them all). */
  readonly changes: {
    readonly title?: string;
    readonly teamId?: string;
    readonly ownerId?: string;
    readonly amount?: number;
    readonly currency?: string;
  };
}
export interface ExpectedCloseDateChangedData extends PublicOpportunityContext {
  /** The date it was expected to close before (YYYY-MM-DD), or null when none was set. */
  readonly from: string | null;
  /** The date it is expected to close now (YYYY-MM-DD), or null when it was cleared. */
  readonly to: string | null;
}
export interface ProcessMigratedData extends PublicOpportunityContext {
  readonly fromVersion: string;
  readonly toVersion: string;
  /** The stage before, named as in the old version. */
  readonly fromStage: PublicStage;
  /** The stage it continues in, named as in the new version. */
  readonly toStage: PublicStage;
  readonly note?: string;
}

export interface PublicEventDataByType {
  'stagecraft.opportunity.opened.v1': OpenedData;
  'stagecraft.opportunity.exit-criterion-met.v1': ExitCriterionData;
  'stagecraft.opportunity.exit-criterion-revoked.v1': ExitCriterionData;
  'stagecraft.opportunity.stage-changed.v1': StageChangedData;
  'stagecraft.opportunity.won.v1': WonData;
  'stagecraft.opportunity.lost.v1': LostData;
  'stagecraft.opportunity.reopened.v1': ReopenedData;
  'stagecraft.opportunity.details-changed.v1': DetailsChangedData;
  'stagecraft.opportunity.process-migrated.v1': ProcessMigratedData;
  'stagecraft.opportunity.expected-close-date-changed.v1': ExpectedCloseDateChangedData;
}

/** One public event: a CloudEvents 1.0 structured-mode JSON message. */
export interface PublicEventOf<Type extends PublicEventType> {
  readonly specversion: '1.0';
  /** The stored event's id: the same on every retry and replay, so consumers deduplicate on it. */
  readonly id: string;
  readonly source: string;
  readonly type: Type;
  /** The opportunity id. */
  readonly subject: string;
  /** Business time (`occurredAt`). */
  readonly time: string;
  readonly datacontenttype: 'application/json';
  /** Extension: the event's position in Stagecraft's global log, as a decimal string (it may exceed 2^53 on KurrentDB). */
  readonly stagecraftposition: string;
  /** Extension: the event's revision in its opportunity (0 for the opening); order per opportunity follows it. */
  readonly stagecraftrevision: number;
  /** Extension: the correlation id of the command that caused it (X-Correlation-Id), when there is one. */
  readonly correlationid?: string;
  readonly data: PublicEventDataByType[Type];
}

export type PublicEvent = { [Type in PublicEventType]: PublicEventOf<Type> }[PublicEventType];

/** The `<name>` of a type, e.g. `stage-changed.v1`: the last part of the subject and routing key. */
export function publicEventName(type: PublicEventType): string {
  return type.slice(PUBLIC_EVENT_TYPE_PREFIX.length + 1);
}
