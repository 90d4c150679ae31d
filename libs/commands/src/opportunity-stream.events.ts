import { isOpportunityEventType, UnknownEventTypeError, type OpportunityEvent } from '@stagecraft/opportunity';
import type { StoredEvent } from '@stagecraft/event-store';
import { deterministicUuid } from './deterministic-uuid';

/** Stored events of an opportunity stream as domain events; upcasting of old types would go here. */
export function toOpportunityEvents(stored: readonly StoredEvent[]): OpportunityEvent[] {
  return stored.map((event) => {
    if (!isOpportunityEventType(event.type)) {
      throw new UnknownEventTypeError(event.stream, event.revision, event.type);
    }
    return { type: event.type, data: event.data } as OpportunityEvent;
  });
}

/**
 * Event ids derived from the stream, the command id and the event's index (a UUID-shaped SHA-256),
 * so a retried command appends the very same ids and the store recognises the retry.
 */
export function eventIdFor(stream: string, commandId: string, index: number): string {
  return deterministicUuid('event', stream, commandId, index);
}
