/**
 * The event ids of recently used streams, by revision.
 *
 * KurrentDB checks ids only where its commit check looks (SERVER-BEHAVIOUR.md §2): an append whose
 * expectation equals the stream's revision, or an 'any' append whose first id is new, is written
 * even when its ids are stored. The adapter checks those against the stream's ids first. A stream's
 * events never change once written, so what was read or written stays true: the next append to
 * the stream only reads what came after (usually nothing), and a read-your-writes command path
 * that has just read the stream reads nothing more. Only a server that lost its log (restored from
 * an older backup) holds less: an append found here to be a retry is read back before it is
 * answered as stored, and the stream forgotten when the server does not hold it.
 */
export interface KnownStream {
  /** id → revision. */
  readonly ids: Map<string, number>;
  /** Every revision up to this one has been seen (−1: none). */
  upTo: number;
}

export interface SeenEvent {
  readonly id: string;
  readonly revision: number;
}

export class KnownEventIds {
  private readonly streams = new Map<string, KnownStream>();

  constructor(private readonly capacity = 5_000) {}

  /** What is known of the stream (an empty record when nothing is), as the most recently used. */
  get(stream: string): KnownStream {
    let known = this.streams.get(stream);
    if (known) this.streams.delete(stream);
    else known = { ids: new Map(), upTo: -1 };
    this.streams.set(stream, known);
    if (this.streams.size > this.capacity) this.streams.delete(this.streams.keys().next().value!);
    return known;
  }

  /** Drops what is known of the stream: it proved to be of a log the server no longer holds. */
  forget(stream: string): void {
    this.streams.delete(stream);
  }

  /**
   * Records events of the stream, in revision order. `readFrom` says they are everything a forwards
   * read from that revision returned: the stream is then known up to the last of them, even when it
   * no longer starts at `readFrom` (truncated). Without it (an append's events) only a contiguous
   * run extends what is known.
   */
  add(stream: string, events: readonly SeenEvent[], readFrom?: number): KnownStream {
    const known = this.get(stream);
    for (const event of events) known.ids.set(event.id, event.revision);
    if (readFrom !== undefined && readFrom <= known.upTo + 1 && events.length > 0) {
      known.upTo = Math.max(known.upTo, events[events.length - 1].revision);
    } else {
      for (const event of events) if (event.revision === known.upTo + 1) known.upTo = event.revision;
    }
    return known;
  }
}
