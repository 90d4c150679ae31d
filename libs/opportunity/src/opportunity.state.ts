import type { OpportunityDetails } from './opportunity.events';

/** What every opened opportunity knows, whatever its status. */
export interface OpportunityFacts extends Partial<Omit<OpportunityDetails, 'title'>> {
  readonly id: string;
  readonly processId: string;
  readonly processVersion: string;
  readonly title: string;
  readonly openedAt: string;
  /** occurredAt of the latest event: business time may not go backwards within a stream. */
  readonly lastOccurredAt: string;
  /** YYYY-MM-DD: when the deal is expected to close; absent when nobody said. */
  readonly expectedCloseDate?: string;
}

export interface NotOpened {
  readonly status: 'none';
}
export interface OpenOpportunityState extends OpportunityFacts {
  readonly status: 'open';
  readonly stage: string;
  readonly stageEnteredAt: string;
  /** Exit criteria of the current stage met during this visit, in the order they were met. */
  readonly criteriaMet: readonly string[];
}
export interface WonOpportunityState extends OpportunityFacts {
  readonly status: 'won';
  /** The stage it was won from. */
  readonly stage: string;
  /** One of the process's wonReasons, when it lists them. */
  readonly reason?: string;
  /** What happens next, as written on the win. */
  readonly nextSteps?: string;
  readonly closedAt: string;
}
export interface LostOpportunityState extends OpportunityFacts {
  readonly status: 'lost';
  /** The stage it was lost in. */
  readonly stage: string;
  readonly reason: string;
  /** What happens next, as written on the loss. */
  readonly nextSteps?: string;
  readonly closedAt: string;
}

export type OpportunityState = NotOpened | OpenOpportunityState | WonOpportunityState | LostOpportunityState;
export type OpenedOpportunityState = Exclude<OpportunityState, NotOpened>;

export function initialState(): OpportunityState {
  return { status: 'none' };
}
