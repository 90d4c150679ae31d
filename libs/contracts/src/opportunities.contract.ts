// The opportunity routes' answers (JSON): what every command answers, an opportunity, its history.
// Answered by apps/api (opportunities/*) over libs/commands; read by the board.

/** What every command answers: where the opportunity is now and where its last event sits in the log. */
export interface CommandAnswer {
  readonly id: string;
  readonly stage: string;
  readonly status: 'open' | 'won' | 'lost';
  readonly revision: number;
  /** Global log position of the opportunity's last event, for read-your-writes on projections (`?minPosition=`). */
  readonly position: number;
}

export interface CriterionDescription {
  readonly id: string;
  readonly description: string;
}

/** GET /opportunities/:id */
export interface OpportunityView {
  readonly id: string;
  readonly processId: string;
  readonly processVersion: string;
  readonly title: string;
  readonly teamId: string | null;
  readonly ownerId: string | null;
  readonly amount: number | null;
  readonly currency: string | null;
  /** The current stage; for a closed opportunity, the stage it was closed in. */
  readonly stage: string;
  readonly stageName: string | null;
  readonly status: 'open' | 'won' | 'lost';
  /** Exit criteria met for the current stage during this visit. */
  readonly criteriaMet: readonly string[];
  /** The current stage's exit criteria, each with whether it is met: what is left before moving on. */
  readonly exitCriteria: readonly (CriterionDescription & { readonly met: boolean })[];
  readonly lostReason: string | null;
  /** The won reason, when the process lists wonReasons and the opportunity is won. */
  readonly wonReason: string | null;
  /** What happens next, as written on the latest win or loss; null while open or when none was written. */
  readonly nextSteps: string | null;
  /** When the deal is expected to close (YYYY-MM-DD); null: nobody said. */
  readonly expectedCloseDate: string | null;
  readonly revision: number;
  readonly position: number;
  readonly openedAt: string;
  readonly stageEnteredAt: string | null;
  readonly closedAt: string | null;
  /** Learned P(win) now, 0–100, while open (null when closed or the read side cannot say). */
  readonly winProbability?: number | null;
  /** The current stage's probability (0–100) in the opportunity's own version; null when closed. */
  readonly configuredProbability?: number | null;
}

/** One stored event, as GET /opportunities/:id/history lists it. */
export interface HistoryEntry {
  readonly revision: number;
  readonly position: number;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/**
 * Events of the stream its readers no longer see, and the store setting that hides them
 * (KurrentDB: $tb, $maxCount, $maxAge, a soft delete), as `verify` names them (libs/audit's HiddenStream).
 */
export interface HiddenEvents {
  readonly stream: string;
  readonly mechanism: 'tombstone' | 'soft-delete' | 'truncate-before' | 'max-count' | 'max-age';
  /** The setting's value ($tb, $maxCount, $maxAge in seconds); absent for a delete. */
  readonly setting?: number;
  /** Revisions 0 through this one are hidden, when known. */
  readonly throughRevision?: number;
  readonly hiddenEvents?: number;
  readonly detail: string;
}

/**
 * A check that could not be made: which settings hide a stream's events, the store refusing its
 * user the streams' metadata, as `verify` names it (libs/audit's UncheckedHiding).
 */
export interface UncheckedHidingCheck {
  readonly check: 'hidden-streams';
  readonly stream?: string;
  readonly user: string | null;
  readonly permission: string;
  /** The first revision the read showed, when past 0: what is before it is hidden by a setting or was cut. */
  readonly firstReadRevision?: number;
  readonly detail: string;
}

/** GET /opportunities/:id/history: a page of the events, oldest first. */
export interface HistoryAnswer {
  readonly events: readonly HistoryEntry[];
  /** The revision the next page starts at (?fromRevision=), or null when this page ends the history. */
  readonly nextFromRevision: number | null;
  /** What a store setting hides of the stream's first events, so the history starts past revision 0; empty when nothing is hidden. */
  readonly hidden: readonly HiddenEvents[];
  /** Present when the history starts past revision 0 and the store refused its user the stream's metadata: hidden by a setting or cut, not told apart. */
  readonly unchecked?: readonly UncheckedHidingCheck[];
}

/** GET /opportunities?q=: a deal the search found, open or closed. */
export interface OpportunitySearchHit {
  readonly id: string;
  readonly title: string;
  readonly processId: string;
  /** The process version the deal runs on. */
  readonly processVersion: string;
  /** Its latest outcome: a reopened deal is open again. */
  readonly status: 'open' | 'won' | 'lost';
  /** Its current stage while open; null once won or lost. */
  readonly stageId: string | null;
  /** occurredAt of its latest closing while won or lost; null while open. */
  readonly closedAt: string | null;
  readonly ownerId: string | null;
  readonly teamId: string | null;
  readonly amount: number | null;
  readonly currency: string | null;
}

export interface OpportunitySearchResult {
  /** Newest deal first (the order they were opened in, reversed); at most `limit`. */
  readonly opportunities: readonly OpportunitySearchHit[];
  /** Pass as `after` for the next page; null on the last. */
  readonly next: string | null;
}
