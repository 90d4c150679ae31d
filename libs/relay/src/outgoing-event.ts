import type { PublicEvent } from '@stagecraft/public-events';

/** A public event ready to send: the same bytes go to every sink and are what a webhook signs. */
export interface OutgoingEvent {
  /** Global log position of the stored event. */
  readonly position: number;
  readonly event: PublicEvent;
  /** JSON of `event` (CloudEvents structured mode). */
  readonly body: Buffer;
}
