import { UnreadableEventError } from './event-store.errors';
import type { EventStore, StoredEvent } from './event-store.port';

/** A stream as far as it reads: its events, and the event it stops at when one cannot be read. */
export interface StreamUpToUnreadable {
  /** Every event when `unreadable` is undefined; else those before it, in revision order. */
  readonly events: StoredEvent[];
  /** The first event that cannot be read (edited outside the service), where there is one. */
  readonly unreadable?: UnreadableEventError;
}

/**
 * One stream for an auditor: where an event cannot be read back (UnreadableEventError), the
 * events before it and that event, instead of only the error, so a report can name the first
 * break wherever it is (an edit before the unreadable event comes first). A read of `maxCount`
 * events parses only those: the longest prefix that reads is found by doubling, then halving,
 * the count, a few reads of a stream that is already broken.
 */
export async function readStreamUpToUnreadable(store: Pick<EventStore, 'readStream'>, stream: string): Promise<StreamUpToUnreadable> {
  try {
    return { events: await store.readStream(stream) };
  } catch (error) {
    if (!(error instanceof UnreadableEventError)) throw error;
  }
  const prefix = await longestReadable(store, stream, 'forwards');
  if (prefix.unreadable !== undefined && Number.isNaN(prefix.unreadable.revision)) {
    // Its revision is what was edited (-1 on SQLite, which sorts it first; text, which it sorts
    // after every number): where it falls in revision order says nothing of where it stands. It
    // stands at its position, after the events stored before it, as a read of the log in position
    // order (verify --all) finds it: those are read from both ends, the events stored after it
    // left out (text: they read before it), and taken when they are the stream's revisions 0, 1, …
    // without a gap.
    const { position } = prefix.unreadable;
    const suffix = (await longestReadable(store, stream, 'backwards')).events;
    const taken = new Set(prefix.events.map((event) => event.revision));
    const before = [...prefix.events, ...suffix.filter((event) => !taken.has(event.revision))].filter((event) => event.position < position).sort((a, b) => a.revision - b.revision);
    if (before.every((event, index) => event.revision === index)) return { events: before, unreadable: prefix.unreadable };
  }
  return prefix;
}

/** The longest run of the stream's events that reads from one end, and the event that stops it (none: the whole stream read). */
async function longestReadable(store: Pick<EventStore, 'readStream'>, stream: string, direction: 'forwards' | 'backwards'): Promise<StreamUpToUnreadable> {
  const attempt = async (count: number): Promise<StoredEvent[] | UnreadableEventError> => {
    try {
      return await store.readStream(stream, { maxCount: count, ...(direction === 'backwards' ? { direction } : {}) });
    } catch (error) {
      if (error instanceof UnreadableEventError) return error;
      throw error;
    }
  };
  // A read of `readable` events succeeds (they are `events`); one of `fails` events does not.
  let readable = 0;
  let events: StoredEvent[] = [];
  let fails = 1;
  let failure = await attempt(fails);
  while (!(failure instanceof UnreadableEventError)) {
    // The whole stream read after all (the event was put right meanwhile): nothing stops it.
    if (failure.length < fails) return { events: failure };
    readable = fails;
    events = failure;
    fails *= 2;
    failure = await attempt(fails);
  }
  while (fails - readable > 1) {
    const middle = readable + Math.floor((fails - readable) / 2);
    const read = await attempt(middle);
    if (read instanceof UnreadableEventError) {
      fails = middle;
      failure = read;
    } else {
      readable = middle;
      events = read;
    }
  }
  return { events, unreadable: failure };
}
