import { foldOpportunity, isOpportunityEventType, UnknownEventTypeError, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import type { StoredEventLike } from './stored-event-like';

/**
 * Which clock "as of" reads:
 * - occurredAt: business time — what the deal looked like at that instant, including what was
 *   backfilled later;
 * - recordedAt: system time — what the system knew at that instant (events recorded by then).
 */
export type AsOfAxis = 'occurredAt' | 'recordedAt';

export interface AsOfResult {
  readonly state: OpportunityState;
  /** Revision of the last event folded, or null when none was (the opportunity did not exist yet). */
  readonly revision: number | null;
  /** How many events were folded. */
  readonly eventsFolded: number;
}

/** The instant of an event on an axis, in ms since the epoch (NaN when the event has none). */
export function instantOf(event: StoredEventLike, axis: AsOfAxis): number {
  if (axis === 'occurredAt') return Date.parse(String(event.data.occurredAt));
  // recordedAt: the time the writer put in the metadata; the store's own time where it is missing.
  const recorded = typeof event.metadata.recordedAt === 'string' ? event.metadata.recordedAt : event.recordedAt;
  return Date.parse(String(recorded));
}

/**
 * Folds the events of one opportunity stream, in revision order, up to the first whose instant on
 * `axis` is after `instant`. A stream is a sequence: an event was only ever known together with
 * every event before it, so the answer is always a prefix. Business time never goes backwards
 * within a stream (the decider refuses it); recording time comes from each writer's clock, and a
 * writer whose clock lags must not make a later event count as known before an earlier one.
 */
export function foldAsOf(events: readonly StoredEventLike[], instant: number | string, axis: AsOfAxis): AsOfResult {
  const at = typeof instant === 'number' ? instant : Date.parse(instant);
  if (Number.isNaN(at)) throw new RangeError(`Not an instant: ${String(instant)}`);
  const folded: OpportunityEvent[] = [];
  let revision: number | null = null;
  for (const event of events) {
    if (!(instantOf(event, axis) <= at)) break;
    folded.push(toOpportunityEvent(event));
    revision = event.revision;
  }
  return { state: foldOpportunity(folded), revision, eventsFolded: folded.length };
}

export function toOpportunityEvent(event: StoredEventLike): OpportunityEvent {
  if (!isOpportunityEventType(event.type)) {
    throw new UnknownEventTypeError(event.stream, event.revision, event.type);
  }
  return { type: event.type, data: event.data } as OpportunityEvent;
}
