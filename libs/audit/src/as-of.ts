import { foldOpportunity, isOpportunityEventType, storedInstant, UnknownEventTypeError, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
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
  if (axis === 'occurredAt') return storedInstant(event.data.occurredAt);
  // recordedAt: the time the writer put in the metadata; the store's own time where it is missing.
  return storedInstant(event.metadata.recordedAt === undefined ? event.recordedAt : event.metadata.recordedAt);
}

/**
 * An event reached by an as-of fold whose instant on the axis cannot be read (missing, or not an
 * instant: only a log edited outside the service holds one, the decider refuses such a time). The
 * fold cannot tell whether it and what follows came before the instant, and stopping there would
 * present an earlier state as the state at that instant: the answer is refused, naming the event.
 */
export class UnreadableInstantError extends Error {
  constructor(
    readonly stream: string,
    readonly revision: number,
    /** Its position in the log, where the reader gave one. */
    readonly position: number | undefined,
    readonly axis: AsOfAxis,
    /** What is stored in its place: "missing", or the text as stored. */
    readonly found: string,
  ) {
    const where = position === undefined ? `revision ${revision} of ${stream}` : `revision ${revision} of ${stream} (position ${position})`;
    super(`The event at ${where} has no readable ${axis} (${found}), so what happened by the instant cannot be told; the log was altered outside Stagecraft`);
    this.name = 'UnreadableInstantError';
  }
}

/**
 * Folds the events of one opportunity stream, in revision order, up to the first whose instant on
 * `axis` is after `instant`. An event reached whose instant cannot be read is an
 * UnreadableInstantError: the fold does not stop there as if it were after the instant. A stream is a sequence: an event was only ever known together with
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
    if (readableInstantOf(event, axis) > at) break;
    folded.push(toOpportunityEvent(event));
    revision = event.revision;
  }
  return { state: foldOpportunity(folded), revision, eventsFolded: folded.length };
}

/** When an opportunity was opened, on each clock: what to say to an as-of read before it. */
export interface Opening {
  /** The revision of its first event (0 in a stream nobody cut). */
  readonly revision: number;
  /** The business time it was opened at (ISO), or undefined where its first event holds none that can be read. */
  readonly occurredAt: string | undefined;
  /** When the system recorded the opening (ISO), or undefined where none can be read. */
  readonly recordedAt: string | undefined;
}

/**
 * When the opportunity whose stream these are (in revision order) was opened: its first event, on
 * both clocks. An as-of fold that folds nothing (revision null) asked for an instant before it on
 * its axis. Undefined for an empty stream.
 */
export function openingOf(events: readonly StoredEventLike[]): Opening | undefined {
  const first = events[0];
  if (first === undefined) return undefined;
  const isoOf = (axis: AsOfAxis) => {
    const at = instantOf(first, axis);
    return Number.isNaN(at) ? undefined : new Date(at).toISOString();
  };
  return { revision: first.revision, occurredAt: isoOf('occurredAt'), recordedAt: isoOf('recordedAt') };
}

/** The instant of an event on an axis, in ms; an UnreadableInstantError naming the event where it holds none that can be read. */
export function readableInstantOf(event: StoredEventLike, axis: AsOfAxis): number {
  const at = instantOf(event, axis);
  if (Number.isNaN(at)) throw new UnreadableInstantError(event.stream, event.revision, event.position, axis, storedInstantText(event, axis));
  return at;
}

export function toOpportunityEvent(event: StoredEventLike): OpportunityEvent {
  if (!isOpportunityEventType(event.type)) {
    throw new UnknownEventTypeError(event.stream, event.revision, event.type);
  }
  return { type: event.type, data: event.data } as OpportunityEvent;
}

/** The instant an event holds on the axis, as stored, for a message: "missing", or the value quoted. */
function storedInstantText(event: StoredEventLike, axis: AsOfAxis): string {
  return describeStoredInstant(axis === 'occurredAt' ? event.data.occurredAt : event.metadata.recordedAt === undefined ? event.recordedAt : event.metadata.recordedAt);
}

/** A stored value that is not an instant, for a message: "missing", or the value quoted. */
export function describeStoredInstant(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  // Any text a writer to the store put there: a bounded excerpt is enough to find it.
  return `${text.length > 80 ? `${text.slice(0, 79)}…` : text} is not an instant`;
}
