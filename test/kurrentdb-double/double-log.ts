// The storage side of the KurrentDB test double: one in-memory transaction log with the server's
// rules for expected revisions, idempotent writes and $all positions. It knows nothing of gRPC;
// kurrentdb-double.ts translates the protocol onto it.

/** What a writer expects, as the server sees it (the protocol's expected_stream_revision oneof). */
export type DoubleExpected = { kind: 'any' } | { kind: 'no_stream' } | { kind: 'stream_exists' } | { kind: 'revision'; revision: bigint };

export interface ProposedEvent {
  readonly id: string;
  readonly type: string;
  readonly contentType: string;
  readonly data: Uint8Array;
  readonly customMetadata: Uint8Array;
}

export interface DoubleRecord extends ProposedEvent {
  readonly stream: string;
  readonly revision: bigint;
  /** The record's byte offset in the transaction log: commit and prepare position alike. */
  readonly position: bigint;
  /** .NET ticks (100 ns) since the Unix epoch, as the server's `created` metadata carries it. */
  readonly created: string;
}

export type WriteOutcome =
  | { readonly kind: 'written'; readonly currentRevision: bigint; readonly position: bigint }
  /** A retry of events already stored: nothing written; the server answers without a position. */
  | { readonly kind: 'idempotent'; readonly currentRevision: bigint }
  /** An empty write that passed its check: nothing written. */
  | { readonly kind: 'nothing'; readonly currentRevision: bigint | 'no_stream' }
  | { readonly kind: 'wrong_expected_version'; readonly currentRevision: bigint | 'no_stream' };

/** A stream name or event type filter, as ReadReq.Options.FilterOptions describes it. */
export interface DoubleFilter {
  readonly on: 'stream' | 'event_type';
  readonly prefixes: readonly string[];
  readonly regex: string;
}

// A record header on disk is about this large; positions grow by it plus the payload, so they
// have gaps like the real log's byte offsets (and never start at 0).
const RECORD_OVERHEAD = 113n;
const FIRST_POSITION = 296n;
const TICKS_PER_MS = 10_000n;

export class DoubleLog {
  private readonly records: DoubleRecord[] = [];
  private readonly streams = new Map<string, DoubleRecord[]>();
  private readonly byPosition = new Map<bigint, DoubleRecord>();
  private nextPosition = FIRST_POSITION;
  private readonly listeners = new Set<() => void>();

  constructor(private readonly clock: () => number = Date.now) {}

  /**
   * The server's commit check (IndexWriter.CheckCommit in EventStoreDB): an exact expectation
   * that is behind the stream is an idempotent retry only if the events after it carry the same
   * ids; with 'any' (and 'stream_exists' once the stream exists) a write whose first id is
   * already in that stream is a retry if the following ids match too; a partial match is a
   * wrong expected version ("corrupted idempotency"). Anything else is written as it comes:
   * the server does NOT refuse an id stored elsewhere or twice in one write.
   */
  write(stream: string, expected: DoubleExpected, events: readonly ProposedEvent[]): WriteOutcome {
    const existing = this.streams.get(stream) ?? [];
    const current: bigint | 'no_stream' = existing.length === 0 ? 'no_stream' : BigInt(existing.length - 1);
    const currentNumber = existing.length - 1; // -1 for a missing stream, like the server's ExpectedVersion.NoStream

    if (expected.kind === 'stream_exists' && existing.length === 0) return { kind: 'wrong_expected_version', currentRevision: current };
    if (expected.kind === 'no_stream' || expected.kind === 'revision') {
      const expectedNumber = expected.kind === 'no_stream' ? -1 : Number(expected.revision);
      if (expectedNumber < currentNumber && events.length > 0) {
        const following = existing.slice(expectedNumber + 1, expectedNumber + 1 + events.length);
        if (following.length === events.length && following.every((record, i) => record.id === events[i].id)) {
          return { kind: 'idempotent', currentRevision: following[following.length - 1].revision };
        }
        return { kind: 'wrong_expected_version', currentRevision: current };
      }
      if (expectedNumber !== currentNumber) return { kind: 'wrong_expected_version', currentRevision: current };
    } else if (events.length > 0) {
      const first = existing.findIndex((record) => record.id === events[0].id);
      if (first >= 0) {
        const following = existing.slice(first, first + events.length);
        if (following.length === events.length && following.every((record, i) => record.id === events[i].id)) {
          return { kind: 'idempotent', currentRevision: following[following.length - 1].revision };
        }
        return { kind: 'wrong_expected_version', currentRevision: current };
      }
    }
    if (events.length === 0) return { kind: 'nothing', currentRevision: current };

    const created = (BigInt(this.clock()) * TICKS_PER_MS).toString();
    const written: DoubleRecord[] = [];
    for (const event of events) {
      const record: DoubleRecord = { ...event, stream, revision: BigInt(existing.length + written.length), position: this.nextPosition, created };
      this.nextPosition += RECORD_OVERHEAD + BigInt(Buffer.byteLength(stream) + Buffer.byteLength(event.type) + event.data.length + event.customMetadata.length);
      written.push(record);
    }
    existing.push(...written);
    this.streams.set(stream, existing);
    for (const record of written) {
      this.records.push(record);
      this.byPosition.set(record.position, record);
    }
    for (const listener of [...this.listeners]) listener();
    const last = written[written.length - 1];
    return { kind: 'written', currentRevision: last.revision, position: last.position };
  }

  stream(name: string): readonly DoubleRecord[] | undefined {
    return this.streams.get(name);
  }

  get length(): number {
    return this.records.length;
  }

  at(index: number): DoubleRecord {
    return this.records[index];
  }

  last(): DoubleRecord | undefined {
    return this.records[this.records.length - 1];
  }

  /** Index of the first record at or after the position (forwards reads are inclusive). */
  indexAtOrAfter(position: bigint): number {
    return lowerBound(this.records, position);
  }

  /** Whether a position names a record; the real log cannot be read from the middle of one. */
  isRecordPosition(position: bigint): boolean {
    return this.byPosition.has(position) || position === this.nextPosition;
  }

  /** The position a new record would get: reading from it reads nothing. */
  get endPosition(): bigint {
    return this.nextPosition;
  }

  onAppend(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function matchesFilter(filter: DoubleFilter | undefined, record: DoubleRecord): boolean {
  if (!filter) return true;
  const subject = filter.on === 'stream' ? record.stream : record.type;
  if (filter.prefixes.length > 0) return filter.prefixes.some((prefix) => subject.startsWith(prefix));
  return filter.regex === '' || new RegExp(filter.regex).test(subject);
}

function lowerBound(records: readonly DoubleRecord[], position: bigint): number {
  let low = 0;
  let high = records.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (records[middle].position < position) low = middle + 1;
    else high = middle;
  }
  return low;
}
