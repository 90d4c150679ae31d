import type { CommandAnswer } from '@stagecraft/contracts';
import type { RecordedEventFact } from '@stagecraft/opportunity';

/** What travels with every command besides its own fields: identity, tracing and concurrency. */
export interface CommandEnvelope {
  /** From Idempotency-Key or the body's commandId when the client gave one; generated otherwise. */
  readonly commandId: string;
  /** The client gave the command id: a repeat is a retry and answers the first response. */
  readonly clientSuppliedId: boolean;
  readonly correlationId: string;
  /** The authenticated caller's name. */
  readonly actor: string;
  /** The person a trusted service acts for (X-Actor), recorded beside the actor. */
  readonly onBehalfOf?: string;
  /** How the actor proved who it is, e.g. `api-key:3f2a…` or `jwt`. */
  readonly authenticatedBy: string;
  /** Teams the caller may touch; undefined means every team. */
  readonly teams?: readonly string[];
  /** The revision the client read; a mismatch is the client's conflict (409), never retried here. */
  readonly expectedRevision?: number;
  /** Server time read at the edge. */
  readonly now: string;
  /**
   * The events (type and data) the command must record: decided otherwise, it is refused before
   * anything is appended (RecordedEventsDifferError). The CLI's import sets it to the exported event
   * it replays, so a field decide() derives is compared with the file's, never silently recorded
   * anew; no HTTP route sets it.
   */
  readonly mustRecord?: readonly RecordedEventFact[];
}

/** What a command answers (the API's JSON), and whether it repeats an earlier answer. */
export interface CommandOutcome extends CommandAnswer {
  /** True when this answer repeats an earlier one for the same Idempotency-Key. */
  readonly replayed: boolean;
  /** Events this request appended: none for a replay, nor for a command that changed nothing (one command may record two, e.g. an opening with its expected close date). */
  readonly appended: number;
}
