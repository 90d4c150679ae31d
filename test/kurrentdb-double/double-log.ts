// The storage side of the KurrentDB test double: one in-memory transaction log with the server's
// rules for expected revisions, idempotent writes and $all positions. It knows nothing of gRPC;
// kurrentdb-double.ts translates the protocol onto it. § numbers refer to SERVER-BEHAVIOUR.md.
//
// Like the server, it separates writing from indexing (§1): a write is checked and stored at once
// (the writer's view, which the next commit check sees), but reads, subscriptions and the writer's
// answer only see it once it is indexed. Indexing is immediate unless a test slows it down.
import { randomUUID } from 'node:crypto';

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
  /** The record's byte offset in the transaction log: commit and prepare position alike (§9). */
  readonly position: bigint;
  /** .NET ticks (100 ns) since the Unix epoch, as the server's `created` metadata carries it. */
  readonly created: string;
  /** Its place in the log (0, 1, …): indexing proceeds in this order. */
  readonly seq: number;
}

export type WriteOutcome =
  /** Stored; `indexed` settles once readers (and the writer's answer) can see it — at once when `indexedNow`. */
  | { readonly kind: 'written'; readonly currentRevision: bigint; readonly position: bigint; readonly indexedNow: boolean; readonly indexed: Promise<void> }
  /** A retry of events already indexed: nothing written; the answer carries the last one's position if it can be read (§4). */
  | { readonly kind: 'idempotent'; readonly currentRevision: bigint; readonly position: bigint | undefined }
  /** A retry of events stored but not yet indexed: the server drops the write without an answer (§1). */
  | { readonly kind: 'idempotent_not_ready' }
  /** An empty write that passed its check: nothing written. */
  | { readonly kind: 'nothing'; readonly currentRevision: bigint | 'no_stream' }
  | { readonly kind: 'wrong_expected_version'; readonly currentRevision: bigint | 'no_stream' }
  | { readonly kind: 'stream_deleted' };

/** How a delete ended: the record written (a tombstone, or metadata hiding every event), or why not. */
export type DeleteOutcome =
  | { readonly kind: 'deleted'; readonly position: bigint }
  | { readonly kind: 'wrong_expected_version'; readonly currentRevision: bigint | 'no_stream' }
  | { readonly kind: 'stream_deleted' };

/** A stream name or event type filter, as ReadReq.Options.FilterOptions describes it. */
export interface DoubleFilter {
  readonly on: 'stream' | 'event_type';
  readonly prefixes: readonly string[];
  readonly regex: string;
}

/** Which node answers a read: the leader sees every indexed record; a frozen follower fewer. */
export type ReadView = 'leader' | 'follower';

interface StreamState {
  readonly records: DoubleRecord[];
  /** A tombstone: the stream is deleted for good. */
  tombstoned: boolean;
  /** Its metadata stream's last $metadata event: $tb, $maxCount, $maxAge (what reads honour) and the rest as written. */
  metadata: Record<string, unknown>;
}

/** $tb of a soft-deleted stream (EventNumber.DeletedStream): every event hidden. */
const SOFT_DELETED = 2n ** 63n - 1n;

// A record header on disk is about this large; positions grow by it plus the payload, so they
// have gaps like the real log's byte offsets (and never start at 0).
const RECORD_OVERHEAD = 113n;
const FIRST_POSITION = 296n;
const TICKS_PER_MS = 10_000n;

export class DoubleLog {
  private readonly records: DoubleRecord[] = [];
  private readonly streams = new Map<string, StreamState>();
  /** The server's committed-events cache (IndexWriter._committedEvents): id → where it was written. */
  private readonly committed = new Map<string, { stream: string; revision: bigint }>();
  private readonly byPosition = new Map<bigint, DoubleRecord>();
  private nextPosition = FIRST_POSITION;
  private indexed = 0;
  private followerIndexed: number | undefined;
  private readonly indexWaiters: { seq: number; resolve: () => void }[] = [];
  private readonly listeners = new Set<() => void>();
  /** How long a write takes to be indexed (ms); 0: at once, in the writer's turn. */
  indexDelayMs = 0;

  constructor(private readonly clock: () => number = Date.now) {}

  /**
   * The server's commit check (IndexWriter.CheckCommit, §1–2), then the write. With 'any' and
   * 'stream_exists' each id is looked up in the committed-events cache: the first one unknown means
   * a new write, a later one unknown a partial retry (wrong expected version), all known a retry —
   * whether or not they are in order. With an exact expectation behind the stream, the events after
   * it must carry the same ids (the first differing: wrong expected version). An expectation equal to
   * the stream's revision writes without looking at ids at all. A retry of events not yet indexed is
   * dropped without an answer.
   */
  write(stream: string, expected: DoubleExpected, events: readonly ProposedEvent[]): WriteOutcome {
    const state = this.streams.get(stream);
    if (state?.tombstoned) return { kind: 'stream_deleted' };
    const existing = state?.records ?? [];
    const current: bigint | 'no_stream' = existing.length === 0 ? 'no_stream' : BigInt(existing.length - 1);
    const currentNumber = BigInt(existing.length - 1); // -1 for a missing stream, like ExpectedVersion.NoStream

    if (expected.kind === 'stream_exists' && existing.length === 0) return { kind: 'wrong_expected_version', currentRevision: current };
    if (expected.kind === 'any' || expected.kind === 'stream_exists') {
      let start: bigint | undefined;
      let end: bigint | undefined;
      for (const [i, event] of events.entries()) {
        const known = this.committed.get(event.id);
        if (!known || known.stream !== stream) {
          if (i === 0) break;
          return { kind: 'wrong_expected_version', currentRevision: current };
        }
        start ??= known.revision;
        end = known.revision;
      }
      if (start !== undefined && end !== undefined) return this.idempotent(stream, end);
    } else {
      const expectedNumber = expected.kind === 'no_stream' ? -1n : expected.revision;
      if (expectedNumber < currentNumber) {
        if (events.length === 0) return { kind: 'wrong_expected_version', currentRevision: current };
        for (const [i, event] of events.entries()) {
          const revision = expectedNumber + 1n + BigInt(i);
          const known = this.committed.get(event.id);
          const same = (known?.stream === stream && known.revision === revision) || existing[Number(revision)]?.id === event.id;
          if (same) continue;
          // A soft-deleted stream may be written again expecting no stream; its events so far stay hidden.
          if (i === 0 && expected.kind === 'no_stream' && this.isSoftDeleted(stream)) return this.append(stream, events);
          return { kind: 'wrong_expected_version', currentRevision: current };
        }
        return this.idempotent(stream, expectedNumber + BigInt(events.length));
      }
      if (expectedNumber > currentNumber) return { kind: 'wrong_expected_version', currentRevision: current };
      // expected == current: written as it comes, ids unchecked (§2).
    }
    if (events.length === 0) return { kind: 'nothing', currentRevision: current };
    return this.append(stream, events);
  }

  /** Writes a system event ($-stream), as the server's own stats and metadata writes do. */
  appendSystem(stream: string, type: string, data: Uint8Array): void {
    this.append(stream, [{ id: randomUUID(), type, contentType: 'application/json', data, customMetadata: new Uint8Array() }]);
  }

  /**
   * Deletes a stream (Streams.Delete / Tombstone; StorageWriterService's WriteDelete): the
   * expectation is checked as a write's; a hard delete writes a tombstone, after which reads and
   * writes answer StreamDeleted; a soft delete writes metadata hiding every event ($tb), after
   * which the stream reads as missing until it is written again.
   */
  deleteStream(stream: string, expected: DoubleExpected, hard: boolean): DeleteOutcome {
    const state = this.streams.get(stream);
    if (state?.tombstoned) return { kind: 'stream_deleted' };
    const last = state?.records.length ? BigInt(state.records.length - 1) : -1n;
    const current = last < 0n ? 'no_stream' : last;
    const matches =
      expected.kind === 'any' ||
      (expected.kind === 'stream_exists' && last >= 0n) ||
      (expected.kind === 'no_stream' && last === -1n) ||
      (expected.kind === 'revision' && expected.revision === last);
    if (!matches) return { kind: 'wrong_expected_version', currentRevision: current };
    if (hard) {
      // The tombstone is a record of the stream in $all, of a system type.
      const written = this.append(stream, [{ id: randomUUID(), type: '$streamDeleted', contentType: 'application/json', data: new Uint8Array(), customMetadata: new Uint8Array() }]);
      this.stateOf(stream).tombstoned = true;
      return { kind: 'deleted', position: (written as { position: bigint }).position };
    }
    if (last < 0n && !this.streams.has(`$$${stream}`)) return { kind: 'wrong_expected_version', currentRevision: 'no_stream' };
    return { kind: 'deleted', position: this.writeMetadata(stream, { $tb: SOFT_DELETED }) };
  }

  /** Sets $tb, as stream metadata does: reads of the stream skip earlier revisions (§4). */
  truncateBefore(stream: string, revision: bigint): void {
    this.writeMetadata(stream, { $tb: revision });
  }

  /** A follower stops replicating: reads served by it see the log as it is now (§3). */
  freezeFollower(): () => void {
    this.followerIndexed = this.indexed;
    return () => (this.followerIndexed = undefined);
  }

  /** The records of a stream a reader may see, or undefined when it has none to show (never had, or soft-deleted). */
  stream(name: string, view: ReadView = 'leader'): readonly DoubleRecord[] | undefined {
    const state = this.streams.get(name);
    if (!state || this.isSoftDeleted(name)) return undefined;
    const visible = this.visibleCount(view);
    const indexed = state.records.filter((record) => record.seq < visible);
    if (indexed.length === 0) return undefined;
    return indexed.filter((record) => this.readable(state, record, BigInt(indexed.length - 1)));
  }

  /**
   * The stream's last revision as the index has it, whether or not metadata hides it (what the
   * server reports as LastStreamPosition); undefined when the stream has none.
   */
  lastRevision(name: string, view: ReadView = 'leader'): bigint | undefined {
    const visible = this.visibleCount(view);
    const indexed = (this.streams.get(name)?.records ?? []).filter((record) => record.seq < visible);
    return indexed.at(-1)?.revision;
  }

  /**
   * Tombstoned, for a reader: a metadata stream reads as deleted once its stream is
   * (IndexReader: "if original stream was deleted, metastream is deleted as well"; the server's
   * when_having_deleted_stream_its_metastream_is_deleted_as_well), so getStreamMetadata of a
   * tombstoned stream answers StreamDeleted (§10).
   */
  isDeleted(name: string): boolean {
    if (name.startsWith('$$') && this.streams.get(name.slice(2))?.tombstoned) return true;
    return this.streams.get(name)?.tombstoned ?? false;
  }

  /** Indexed records: what readers and subscriptions see. */
  get length(): number {
    return this.indexed;
  }

  lengthFor(view: ReadView): number {
    return this.visibleCount(view);
  }

  at(index: number): DoubleRecord {
    return this.records[index];
  }

  last(): DoubleRecord | undefined {
    return this.indexed === 0 ? undefined : this.records[this.indexed - 1];
  }

  /** Index of the first indexed record whose (position, position) is at or after (commit, prepare). */
  indexAtOrAfter(commit: bigint, prepare: bigint = commit): number {
    let low = 0;
    let high = this.indexed;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const position = this.records[middle].position;
      if (position < commit || (position === commit && position < prepare)) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Whether a position is a record boundary: where a record starts, or the end of the log. */
  isRecordBoundary(position: bigint): boolean {
    return this.byPosition.has(position) || position === this.nextPosition || position === 0n;
  }

  /** The position a new record would get: reading from it reads nothing. */
  get endPosition(): bigint {
    return this.nextPosition;
  }

  /** Told whenever records become indexed. */
  onIndexed(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Settles once every record written so far is indexed. */
  settled(): Promise<void> {
    return this.indexedThrough(this.records.length - 1);
  }

  private idempotent(stream: string, endRevision: bigint): WriteOutcome {
    const record = this.streams.get(stream)!.records[Number(endRevision)];
    if (record.seq >= this.indexed) return { kind: 'idempotent_not_ready' };
    const state = this.streams.get(stream)!;
    const readable = this.readable(state, record, BigInt(state.records.length - 1));
    return { kind: 'idempotent', currentRevision: endRevision, position: readable ? record.position : undefined };
  }

  private append(stream: string, events: readonly ProposedEvent[]): WriteOutcome {
    const state = this.stateOf(stream);
    // Writing to a soft-deleted stream brings it back, its earlier events still hidden (SoftUndeleteStream).
    if (this.isSoftDeleted(stream) && !events.every((event) => event.type.startsWith('$'))) this.writeMetadata(stream, { $tb: BigInt(state.records.length) });
    const created = (BigInt(this.clock()) * TICKS_PER_MS).toString();
    const written: DoubleRecord[] = [];
    for (const event of events) {
      const record: DoubleRecord = { ...event, stream, revision: BigInt(state.records.length + written.length), position: this.nextPosition, created, seq: this.records.length + written.length };
      this.nextPosition += RECORD_OVERHEAD + BigInt(Buffer.byteLength(stream) + Buffer.byteLength(event.type) + event.data.length + event.customMetadata.length);
      written.push(record);
    }
    state.records.push(...written);
    for (const record of written) {
      this.records.push(record);
      this.byPosition.set(record.position, record);
      this.committed.set(record.id, { stream, revision: record.revision });
      if (stream.startsWith('$$') && record.type === '$metadata') this.applyMetadata(stream.slice(2), record.data);
    }
    const last = written[written.length - 1];
    if (this.indexDelayMs === 0) {
      this.indexUpTo(this.records.length);
      return { kind: 'written', currentRevision: last.revision, position: last.position, indexedNow: true, indexed: Promise.resolve() };
    }
    const indexed = this.indexedThrough(last.seq);
    setTimeout(() => this.indexUpTo(last.seq + 1), this.indexDelayMs).unref();
    return { kind: 'written', currentRevision: last.revision, position: last.position, indexedNow: false, indexed };
  }

  /** Appends a $metadata event to the stream's metadata stream, keeping what it set before. */
  private writeMetadata(stream: string, changes: Record<string, bigint | number>): bigint {
    const metadata: Record<string, unknown> = { ...(this.streams.get(stream)?.metadata ?? {}), ...changes };
    const json = JSON.stringify(metadata, (_, value: unknown) => (typeof value === 'bigint' ? Number(value) : value)).replace(/"\$tb":9223372036854776000/, `"$tb":${SOFT_DELETED}`);
    const written = this.append(`$$${stream}`, [{ id: randomUUID(), type: '$metadata', contentType: 'application/json', data: Buffer.from(json), customMetadata: new Uint8Array() }]);
    return (written as { position: bigint }).position;
  }

  private applyMetadata(stream: string, data: Uint8Array): void {
    try {
      // $tb may be 2^63-1 (soft deleted): read it as text, beyond what a JSON number holds exactly.
      const text = Buffer.from(data).toString('utf8');
      const metadata = JSON.parse(text) as Record<string, unknown>;
      const tb = /"\$tb"\s*:\s*(\d+)/.exec(text)?.[1];
      this.stateOf(stream).metadata = { ...metadata, ...(tb ? { $tb: BigInt(tb) } : {}) };
    } catch {
      // Not JSON: the server would refuse to use it as metadata; nor does the double.
    }
  }

  private isSoftDeleted(stream: string): boolean {
    return this.streams.get(stream)?.metadata.$tb === SOFT_DELETED;
  }

  /**
   * Whether an event of the stream can still be read: $tb, $maxCount, and $maxAge (seconds: an
   * event written before now − $maxAge is hidden; IndexReader.ReadEventInternal and
   * ForStreamWithMaxAge, 25.1.4 L144/L303, §4).
   */
  private readable(state: StreamState, record: DoubleRecord, lastRevision: bigint): boolean {
    const tb = typeof state.metadata.$tb === 'bigint' ? state.metadata.$tb : 0n;
    const maxCount = typeof state.metadata.$maxCount === 'number' ? BigInt(state.metadata.$maxCount) : undefined;
    const maxAge = typeof state.metadata.$maxAge === 'number' ? BigInt(Math.round(state.metadata.$maxAge * 1000)) : undefined;
    return (
      record.revision >= tb &&
      (maxCount === undefined || record.revision > lastRevision - maxCount) &&
      (maxAge === undefined || BigInt(record.created) >= (BigInt(this.clock()) - maxAge) * TICKS_PER_MS)
    );
  }

  private indexUpTo(count: number): void {
    if (count <= this.indexed) return;
    this.indexed = count;
    for (const waiter of this.indexWaiters.filter((w) => w.seq < count)) {
      this.indexWaiters.splice(this.indexWaiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    for (const listener of [...this.listeners]) listener();
  }

  private indexedThrough(seq: number): Promise<void> {
    if (seq < this.indexed) return Promise.resolve();
    return new Promise((resolve) => this.indexWaiters.push({ seq, resolve }));
  }

  private visibleCount(view: ReadView): number {
    return view === 'follower' && this.followerIndexed !== undefined ? Math.min(this.followerIndexed, this.indexed) : this.indexed;
  }

  private stateOf(stream: string): StreamState {
    let state = this.streams.get(stream);
    if (!state) {
      state = { records: [], tombstoned: false, metadata: {} };
      this.streams.set(stream, state);
    }
    return state;
  }
}

export function matchesFilter(filter: DoubleFilter | undefined, record: DoubleRecord): boolean {
  if (!filter) return true;
  const subject = filter.on === 'stream' ? record.stream : record.type;
  if (filter.prefixes.length > 0) return filter.prefixes.some((prefix) => subject.startsWith(prefix));
  return filter.regex === '' || new RegExp(filter.regex).test(subject);
}
