import { randomUUID } from 'node:crypto';
import { itIf } from '@stagecraft/testing/skips';
import {
  AppendTooLargeError,
  DuplicateEventIdError,
  EventStoreAccessDeniedError,
  EventStoreOutcomeUnknownError,
  EventStoreUnavailableError,
  StreamDeletedError,
  WrongExpectedRevisionError,
} from './event-store.errors';
import type { AppendResult, EventStore, ExpectedRevision, NewEvent, StoredEvent, StreamRevision, SubscriptionMessage } from './event-store.port';

export interface EventStoreContractSubject {
  readonly store: EventStore;
  /** Runs after the suite has closed the store: remove what create() made (files, containers). */
  readonly cleanup?: () => Promise<void>;
  /** What the store's server can be made to do; each case that needs one runs only where it is given. */
  readonly faults?: EventStoreFaults;
}

/**
 * Things a real store server or cluster does that a test must be able to cause. Each switch that
 * lasts returns the way to end it. A store without a server (SQLite) gives none.
 */
export interface EventStoreFaults {
  /** Reads that do not ask for the leader are served by a replica that stops replicating now. */
  readonly staleReplica?: () => () => void;
  /**
   * Writes take `indexMs` to become readable, and are answered only then; a write not readable
   * within `timeoutMs` is answered with a timeout (it may be stored later), and a repeat of one
   * stored but not yet readable is dropped by the server until it times out. Ending it waits for
   * every pending write.
   */
  readonly slowIndexing?: (indexMs: number, timeoutMs: number) => () => Promise<void>;
  /** The connection breaks right after the server stores the next append, before it answers. */
  readonly breakAfterNextWrite?: () => void;
  /** The next `count` appends are refused before anything is written. */
  readonly refuseAppends?: (reason: 'not-ready' | 'too-busy', count: number) => void;
  /**
   * The next `count` appends reach a node that is no longer the leader (an election): it writes
   * nothing and names the leader. Any append on the same connection at that moment fails with it.
   */
  readonly notLeader?: (count: number) => void;
  /** Appends, reads and subscriptions touching streams with this prefix are refused for lack of rights. */
  readonly denyAccess?: (streamPrefix: string) => () => void;
  /** Deletes a stream for good. */
  readonly deleteStream?: (stream: string) => Promise<void>;
  /** Events of the stream before this revision can no longer be read (truncated, as by $tb). */
  readonly truncateStream?: (stream: string, beforeRevision: number) => Promise<void>;
  /** Ends every live subscription, as a node restart or a leader change does. */
  readonly dropSubscriptions?: () => number;
}

/**
 * The conformance suite of the EventStore port: every adapter runs it.
 *
 * It asserts port behaviour only. Stream names are unique per test and positions are only
 * compared (never assumed dense or starting at 1), so it can run against a shared server that
 * other writers use at the same time. One store serves the suite; tests that close a store
 * call create() again.
 */
/**
 * What an adapter's store can promise beyond the port's core. Each gap is declared by the
 * adapter's test with its reason, and the tests that need the promise are skipped for it only.
 */
export interface EventStoreCapabilities {
  /**
   * An event id stored in one stream is refused in every other stream (default true). KurrentDB
   * keeps no index of event ids, so it only knows ids within a stream.
   */
  readonly eventIdsUniqueAcrossStreams?: boolean;
  /** The largest append in bytes of event data, when the store has one worth testing (KurrentDB up to 25.0: 1 MiB). */
  readonly maxAppendBytes?: number;
  /** The largest single event in bytes of event data, when the store has one (KurrentDB: a log record, 16 MiB less 10,000 bytes). */
  readonly maxEventBytes?: number;
  /** The faults the subject can cause (EventStoreFaults); the cases needing others are skipped. */
  readonly faults?: readonly (keyof EventStoreFaults)[];
}

export function eventStoreContract(name: string, create: () => Promise<EventStoreContractSubject>, capabilities: EventStoreCapabilities = {}): void {
  const acrossStreams = capabilities.eventIdsUniqueAcrossStreams ?? true;
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    let cleanup: (() => Promise<void>) | undefined;
    let faults: EventStoreFaults = {};

    beforeAll(async () => {
      ({ store, cleanup, faults = {} } = await create());
    });
    /** A case that needs a fault: skipped (and so reported) where the adapter's test does not declare it. */
    const withFault = <K extends keyof EventStoreFaults>(fault: K, name: string, test: (fault: NonNullable<EventStoreFaults[K]>) => Promise<void>) =>
      itIf(capabilities.faults?.includes(fault) === true, `this adapter's test cannot cause the fault ${fault}`)(name, async () => {
        const given = faults[fault];
        if (!given) throw new Error(`The subject declares the fault ${fault} but does not give it`);
        await test(given as NonNullable<EventStoreFaults[K]>);
      });

    afterAll(async () => {
      await store?.close();
      await cleanup?.();
    });

    describe('appendToStream: expected revision', () => {
      it("'no_stream' creates a stream; revisions start at 0 and are consecutive", async () => {
        const stream = uniqueStream('no-stream');
        const result = await store.appendToStream(stream, newEvents(3), { expectedRevision: 'no_stream' });

        expect(result.nextRevision).toBe(2);
        expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([0, 1, 2]);
      });

      it("'no_stream' fails once the stream exists", async () => {
        const stream = uniqueStream('no-stream-taken');
        await store.appendToStream(stream, newEvents(1), { expectedRevision: 'no_stream' });

        await expectWrongRevision(store.appendToStream(stream, newEvents(1), { expectedRevision: 'no_stream' }), stream, 'no_stream', 0);
      });

      it("'stream_exists' succeeds on a stream with events and fails on a missing one", async () => {
        const stream = uniqueStream('exists');
        await expectWrongRevision(store.appendToStream(stream, newEvents(1), { expectedRevision: 'stream_exists' }), stream, 'stream_exists', 'no_stream');

        await store.appendToStream(stream, newEvents(1), { expectedRevision: 'no_stream' });
        const result = await store.appendToStream(stream, newEvents(2), { expectedRevision: 'stream_exists' });

        expect(result.nextRevision).toBe(2);
      });

      it("'any' appends to a missing and to an existing stream", async () => {
        const stream = uniqueStream('any');
        expect((await store.appendToStream(stream, newEvents(1), { expectedRevision: 'any' })).nextRevision).toBe(0);
        expect((await store.appendToStream(stream, newEvents(2), { expectedRevision: 'any' })).nextRevision).toBe(2);
      });

      it('an exact revision succeeds when it is the last revision', async () => {
        const stream = uniqueStream('exact');
        const first = await store.appendToStream(stream, newEvents(2), { expectedRevision: 'no_stream' });
        const second = await store.appendToStream(stream, newEvents(1), { expectedRevision: first.nextRevision });

        expect(second.nextRevision).toBe(2);
      });

      it('an exact revision fails when behind, ahead, or on a missing stream, and writes nothing', async () => {
        const stream = uniqueStream('exact-wrong');
        await store.appendToStream(stream, newEvents(2), { expectedRevision: 'no_stream' });

        await expectWrongRevision(store.appendToStream(stream, newEvents(1), { expectedRevision: 0 }), stream, 0, 1);
        await expectWrongRevision(store.appendToStream(stream, newEvents(1), { expectedRevision: 5 }), stream, 5, 1);
        const missing = uniqueStream('exact-missing');
        await expectWrongRevision(store.appendToStream(missing, newEvents(1), { expectedRevision: 0 }), missing, 0, 'no_stream');

        expect(await store.readStream(stream)).toHaveLength(2);
        expect(await store.readStream(missing)).toEqual([]);
      });

      it('the error is typed, coded and readable', async () => {
        const stream = uniqueStream('error');
        await store.appendToStream(stream, newEvents(1), { expectedRevision: 'no_stream' });
        const error = await rejectionOf(store.appendToStream(stream, newEvents(1), { expectedRevision: 'no_stream' }));

        expect(error).toBeInstanceOf(WrongExpectedRevisionError);
        expect(error).toBeInstanceOf(Error);
        expect(error).toMatchObject({ code: 'EVENT_STORE.WRONG_EXPECTED_REVISION', name: 'WrongExpectedRevisionError' });
        expect((error as Error).message).toContain(stream);
      });
    });

    describe('appendToStream: what is stored', () => {
      it('keeps the order within an append and across appends', async () => {
        const stream = uniqueStream('order');
        const first = newEvents(3, 'First');
        const second = newEvents(2, 'Second');
        const r1 = await store.appendToStream(stream, first, { expectedRevision: 'no_stream' });
        const r2 = await store.appendToStream(stream, second, { expectedRevision: r1.nextRevision });
        const stored = await store.readStream(stream);

        expect(stored.map((e) => e.id)).toEqual([...first, ...second].map((e) => e.id));
        expect(stored.map((e) => e.revision)).toEqual([0, 1, 2, 3, 4]);
        expectIncreasingPositions(stored);
        expect(stored[0].position).toBeGreaterThan(0);
        expect(r1).toEqual({ nextRevision: 2, position: stored[2].position });
        expect(r2).toEqual({ nextRevision: 4, position: stored[4].position });
      });

      it('stores every field of the event', async () => {
        const stream = uniqueStream('fields');
        const event: NewEvent = {
          id: randomUUID(),
          type: 'OpportunityOpened',
          data: { amount: 1250.5, name: 'Ünïcode ✓', nested: { list: [1, 'two', null], flag: true } },
          metadata: { correlationId: randomUUID(), actor: 'user-1' },
        };
        const result = await store.appendToStream(stream, [event], { expectedRevision: 'no_stream' });
        const [stored] = await store.readStream(stream);

        expect(stored).toEqual({
          id: event.id,
          stream,
          revision: 0,
          position: result.position,
          type: event.type,
          data: event.data,
          metadata: event.metadata,
          recordedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/),
        });
        expect(Number.isNaN(Date.parse(stored.recordedAt))).toBe(false);
      });

      it('an empty append to an existing stream writes nothing and reports its last revision', async () => {
        const stream = uniqueStream('empty');
        await store.appendToStream(stream, newEvents(2), { expectedRevision: 'no_stream' });

        expect((await store.appendToStream(stream, [], { expectedRevision: 'any' })).nextRevision).toBe(1);
        expect((await store.appendToStream(stream, [], { expectedRevision: 1 })).nextRevision).toBe(1);
        await expectWrongRevision(store.appendToStream(stream, [], { expectedRevision: 0 }), stream, 0, 1);
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it('an empty append to a missing stream creates nothing; its nextRevision works as the next expectation', async () => {
        const stream = uniqueStream('empty-missing');
        await expectWrongRevision(store.appendToStream(stream, [], { expectedRevision: 'stream_exists' }), stream, 'stream_exists', 'no_stream');
        const result = await store.appendToStream(stream, [], { expectedRevision: 'no_stream' });

        expect(result.nextRevision).toBe(-1);
        expect(await store.readStream(stream)).toEqual([]);
        expect((await store.appendToStream(stream, newEvents(1), { expectedRevision: result.nextRevision })).nextRevision).toBe(0);
      });
    });

    describe('appendToStream: idempotency by event id', () => {
      it('a retry returns the original result and writes nothing, whatever its expectation', async () => {
        const stream = uniqueStream('retry');
        const first = newEvents(2);
        const original = await store.appendToStream(stream, first, { expectedRevision: 'no_stream' });

        expect(await store.appendToStream(stream, copies(first), { expectedRevision: 'no_stream' })).toEqual(original);

        const later = await store.appendToStream(stream, newEvents(1), { expectedRevision: 1 });
        expect(await store.appendToStream(stream, copies(first), { expectedRevision: 7 })).toEqual(original);
        expect(await store.readStream(stream)).toHaveLength(3);
        expect((await store.readStream(stream, { direction: 'backwards', maxCount: 1 }))[0].position).toBe(later.position);
      });

      it('two identical appends in flight at once store the events once and both succeed', async () => {
        const stream = uniqueStream('retry-concurrent');
        const events = newEvents(2);
        const [a, b] = await Promise.all([
          store.appendToStream(stream, events, { expectedRevision: 'no_stream' }),
          store.appendToStream(stream, copies(events), { expectedRevision: 'no_stream' }),
        ]);

        expect(a).toEqual(b);
        expect(await store.readStream(stream)).toHaveLength(2);
      });

      it('an append that overlaps a stored one without being its retry is a DuplicateEventIdError naming its first stored id', async () => {
        const stream = uniqueStream('overlap');
        const [a, b] = newEvents(2);
        await store.appendToStream(stream, [a, b], { expectedRevision: 'no_stream' });
        const [c] = newEvents(1);

        await expectDuplicate(store.appendToStream(stream, [a, c], { expectedRevision: 'any' }), stream, a.id);
        await expectDuplicate(store.appendToStream(stream, [c, a], { expectedRevision: 'any' }), stream, a.id);
        await expectDuplicate(store.appendToStream(stream, [b, a], { expectedRevision: 'any' }), stream, b.id);

        expect((await store.readStream(stream)).map((e) => e.id)).toEqual([a.id, b.id]);
      });

      itIf(acrossStreams, 'this store keeps event ids unique per stream only')('an append of ids stored in another stream is a DuplicateEventIdError', async () => {
        const stream = uniqueStream('overlap');
        const [a, b] = newEvents(2);
        await store.appendToStream(stream, [a, b], { expectedRevision: 'no_stream' });
        const elsewhere = uniqueStream('overlap-elsewhere');

        await expectDuplicate(store.appendToStream(elsewhere, [a, b], { expectedRevision: 'any' }), elsewhere, a.id);
        expect(await store.readStream(elsewhere)).toEqual([]);
      });

      it('the same id twice in one append is a DuplicateEventIdError', async () => {
        const stream = uniqueStream('twice');
        const [a, b] = newEvents(2);

        await expectDuplicate(store.appendToStream(stream, [a, b, copies([a])[0]], { expectedRevision: 'no_stream' }), stream, a.id);
        expect(await store.readStream(stream)).toEqual([]);
      });

      it('with an exact expectation equal to the stream’s revision, ids already stored are a retry or a DuplicateEventIdError, never written twice', async () => {
        const stream = uniqueStream('exact-current');
        const [a, b] = newEvents(2);
        const original = await store.appendToStream(stream, [a, b], { expectedRevision: 'no_stream' });
        const [c] = newEvents(1);

        expect(await store.appendToStream(stream, copies([a, b]), { expectedRevision: 1 })).toEqual(original);
        await expectDuplicate(store.appendToStream(stream, [c, a], { expectedRevision: 1 }), stream, a.id);
        await expectDuplicate(store.appendToStream(stream, [b, c], { expectedRevision: 1 }), stream, b.id);

        expect((await store.readStream(stream)).map((e) => e.id)).toEqual([a.id, b.id]);
      });

      withFault('truncateStream', 'a stream whose every event is hidden reads as empty, yet keeps its revisions: no_stream conflicts, appends go on after them', async (truncateStream) => {
        const stream = uniqueStream('all-hidden');
        await store.appendToStream(stream, newEvents(3), { expectedRevision: 'no_stream' });
        await truncateStream(stream, 10);

        expect(await store.readStream(stream)).toEqual([]);
        expect(await store.readStream(stream, { direction: 'backwards', maxCount: 1 })).toEqual([]);
        await expectWrongRevision(store.appendToStream(stream, newEvents(1), { expectedRevision: 'no_stream' }), stream, 'no_stream', 2);
        const later = newEvents(1);
        expect((await store.appendToStream(stream, later, { expectedRevision: 2 })).nextRevision).toBe(3);
      });

      withFault('truncateStream', 'a retry whose events can no longer be read still succeeds, with a position at or after them, writing nothing', async (truncateStream) => {
        const stream = uniqueStream('retry-truncated');
        const first = newEvents(2);
        const original = await store.appendToStream(stream, first, { expectedRevision: 'no_stream' });
        const later = await store.appendToStream(stream, newEvents(1), { expectedRevision: 1 });
        await truncateStream(stream, 2);

        const retry = await store.appendToStream(stream, copies(first), { expectedRevision: 'no_stream' });
        expect(retry.nextRevision).toBe(original.nextRevision);
        expect(retry.position).toBeGreaterThanOrEqual(original.position);
        expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([2]);
        expect((await store.readStream(stream, { direction: 'backwards', maxCount: 1 }))[0].position).toBe(later.position);
      });
    });

    describe('appendToStream: when the answer is lost', () => {
      withFault('slowIndexing', 'two identical appends in flight while the server indexes slowly both succeed with the first one’s result', async (slowIndexing) => {
        const stream = uniqueStream('in-flight');
        const events = newEvents(2);
        const restore = slowIndexing(50, 300);
        try {
          const [a, b] = await Promise.all([
            store.appendToStream(stream, events, { expectedRevision: 'no_stream' }),
            store.appendToStream(stream, copies(events), { expectedRevision: 'no_stream' }),
          ]);

          expect(b).toEqual(a);
        } finally {
          await restore();
        }
        const stored = await store.readStream(stream);
        expect(stored.map((e) => e.id)).toEqual(events.map((e) => e.id));
      });

      withFault('slowIndexing', 'an append the server times out before it is stored is an EventStoreOutcomeUnknownError; retried once stored, it is answered, not written twice', async (slowIndexing) => {
        const stream = uniqueStream('timed-out');
        const events = newEvents(2);
        const restore = slowIndexing(300, 50);
        let error: unknown;
        try {
          error = await rejectionOf(store.appendToStream(stream, events, { expectedRevision: 'no_stream' }));
        } finally {
          await restore();
        }

        expect(error).toBeInstanceOf(EventStoreOutcomeUnknownError);
        expect(error).toBeInstanceOf(EventStoreUnavailableError);
        expect(error).toMatchObject({ code: 'EVENT_STORE.OUTCOME_UNKNOWN', stream });
        const retry = await store.appendToStream(stream, copies(events), { expectedRevision: 'no_stream' });
        const stored = await store.readStream(stream);
        expect(stored.map((e) => e.id)).toEqual(events.map((e) => e.id));
        expect(retry).toEqual({ nextRevision: 1, position: stored[1].position });
      });

      withFault('breakAfterNextWrite', 'an append whose connection breaks after the server stored it answers its result', async (breakAfterNextWrite) => {
        const stream = uniqueStream('broken');
        const events = newEvents(2);
        breakAfterNextWrite();
        const result = await store.appendToStream(stream, events, { expectedRevision: 'no_stream' });

        const stored = await store.readStream(stream);
        expect(stored.map((e) => e.id)).toEqual(events.map((e) => e.id));
        expect(result).toEqual({ nextRevision: 1, position: stored[1].position });
      });
    });

    describe('appendToStream: what the store refuses', () => {
      it('the nil UUID and an empty event type are a TypeError, and nothing is written', async () => {
        const stream = uniqueStream('malformed');
        const nil = { ...newEvent('Valid'), id: '00000000-0000-0000-0000-000000000000' };
        const untyped = { ...newEvent('Valid'), type: '' };

        await expect(store.appendToStream(stream, [newEvent('Valid'), nil], { expectedRevision: 'no_stream' })).rejects.toThrow(TypeError);
        await expect(store.appendToStream(stream, [untyped], { expectedRevision: 'no_stream' })).rejects.toThrow(TypeError);
        expect(await store.readStream(stream)).toEqual([]);
      });

      withFault('refuseAppends', 'a server not ready or too busy is an EventStoreUnavailableError (nothing written), and a retry then succeeds', async (refuseAppends) => {
        const stream = uniqueStream('not-ready');
        const events = newEvents(1);
        refuseAppends('not-ready', 1);
        refuseAppends('too-busy', 1);
        const notReady = await rejectionOf(store.appendToStream(stream, events, { expectedRevision: 'no_stream' }));
        const busy = await rejectionOf(store.appendToStream(stream, copies(events), { expectedRevision: 'no_stream' }));

        for (const error of [notReady, busy]) {
          expect(error).toBeInstanceOf(EventStoreUnavailableError);
          expect(error).toMatchObject({ code: 'EVENT_STORE.UNAVAILABLE' });
        }
        expect(await store.readStream(stream)).toEqual([]);
        expect((await store.appendToStream(stream, copies(events), { expectedRevision: 'no_stream' })).nextRevision).toBe(0);
      });

      withFault('notLeader', 'appends that reach a node no longer the leader are written once, on the leader it names', async (notLeader) => {
        const stream = uniqueStream('not-leader');
        const beside = uniqueStream('not-leader-beside');
        const first = await store.appendToStream(stream, newEvents(1), { expectedRevision: 'no_stream' });
        const events = newEvents(2);
        const besideEvents = newEvents(1);
        notLeader(1);
        const [redirected, inFlight] = await Promise.all([
          store.appendToStream(stream, events, { expectedRevision: first.nextRevision }),
          store.appendToStream(beside, besideEvents, { expectedRevision: 'no_stream' }),
        ]);

        const stored = await store.readStream(stream);
        expect(stored.map((e) => e.id)).toEqual([stored[0].id, ...events.map((e) => e.id)]);
        expect(redirected).toEqual({ nextRevision: 2, position: stored[2].position });
        const storedBeside = await store.readStream(beside);
        expect(storedBeside.map((e) => e.id)).toEqual(besideEvents.map((e) => e.id));
        expect(inFlight).toEqual({ nextRevision: 0, position: storedBeside[0].position });
      });

      itIf(Boolean(capabilities.maxAppendBytes), 'this store sets no limit on an append')('an append larger than the store takes is an AppendTooLargeError with the limit, and nothing is written', async () => {
        const stream = uniqueStream('too-large');
        const half = 'x'.repeat(Math.ceil(capabilities.maxAppendBytes! / 2) + 1024);
        const error = await rejectionOf(store.appendToStream(stream, [newEvent('Big', { half }), newEvent('Big', { half })], { expectedRevision: 'no_stream' }));

        expect(error).toBeInstanceOf(AppendTooLargeError);
        expect(error).toMatchObject({ code: 'EVENT_STORE.APPEND_TOO_LARGE', stream, limitBytes: capabilities.maxAppendBytes });
        expect(await store.readStream(stream)).toEqual([]);
        expect((await store.appendToStream(stream, newEvents(1), { expectedRevision: 'no_stream' })).nextRevision).toBe(0);
      });

      itIf(Boolean(capabilities.maxEventBytes), 'this store sets no limit on an event')('an event larger than the store takes is an AppendTooLargeError naming it; appends made meanwhile are unharmed', async () => {
        const stream = uniqueStream('event-too-large');
        const big = newEvent('Huge', { blob: 'x'.repeat(capabilities.maxEventBytes! + 1) });
        const [refused, other] = await Promise.allSettled([
          store.appendToStream(stream, [big], { expectedRevision: 'no_stream' }),
          store.appendToStream(uniqueStream('beside-too-large'), newEvents(1), { expectedRevision: 'no_stream' }),
        ]);

        expect(refused).toMatchObject({ status: 'rejected', reason: { code: 'EVENT_STORE.APPEND_TOO_LARGE', stream, eventId: big.id } });
        expect((refused as PromiseRejectedResult).reason).toBeInstanceOf(AppendTooLargeError);
        expect(other).toMatchObject({ status: 'fulfilled', value: { nextRevision: 0 } });
        expect(await store.readStream(stream)).toEqual([]);
      });

      withFault('truncateStream', 'a stream whose start is hidden is reported with what hides it, alone and among all such streams', async (truncateStream) => {
        const stream = uniqueStream('hidden-start');
        await store.appendToStream(stream, newEvents(4), { expectedRevision: 'no_stream' });
        await truncateStream(stream, 2);

        const hiding = { stream, truncateBefore: 2, softDeleted: false, tombstoned: false, firstReadableRevision: 2 };
        expect(await store.streamHiding!(stream)).toEqual(hiding);
        expect((await store.streamsHidingEvents!()).filter((found) => found.stream === stream)).toEqual([hiding]);
      });

      withFault('deleteStream', 'a deleted stream is reported deleted for good, alone and among all such streams', async (deleteStream) => {
        const stream = uniqueStream('hidden-deleted');
        await store.appendToStream(stream, newEvents(2), { expectedRevision: 'no_stream' });
        await deleteStream(stream);

        expect(await store.streamHiding!(stream)).toEqual({ stream, softDeleted: false, tombstoned: true });
        expect((await store.streamsHidingEvents!()).filter((found) => found.stream === stream)).toEqual([{ stream, softDeleted: false, tombstoned: true }]);
      });

      itIf(!capabilities.faults?.includes('truncateStream') && !capabilities.faults?.includes('deleteStream'), 'this store can hide events from readers')(
        'a store that cannot hide a stream’s events from readers reports none hidden',
        async () => {
          const stream = uniqueStream('nothing-hidden');
          await store.appendToStream(stream, newEvents(2), { expectedRevision: 'no_stream' });
          expect(await store.streamHiding?.(stream)).toBeUndefined();
          expect((await store.streamsHidingEvents?.()) ?? []).toEqual([]);
        },
      );

      withFault('deleteStream', 'a deleted stream is a StreamDeletedError, for appends and reads', async (deleteStream) => {
        const stream = uniqueStream('deleted');
        await store.appendToStream(stream, newEvents(1), { expectedRevision: 'no_stream' });
        await deleteStream(stream);

        for (const attempt of [
          () => store.appendToStream(stream, newEvents(1), { expectedRevision: 'any' }),
          () => store.appendToStream(stream, newEvents(1), { expectedRevision: 0 }),
          () => store.readStream(stream),
        ]) {
          const error = await rejectionOf(attempt());
          expect(error).toBeInstanceOf(StreamDeletedError);
          expect(error).toMatchObject({ code: 'EVENT_STORE.STREAM_DELETED', stream });
        }
      });

      withFault('denyAccess', 'a store that denies this service access is an EventStoreAccessDeniedError, for appends, reads and subscriptions', async (denyAccess) => {
        const prefix = uniquePrefix('denied');
        const stream = `${prefix}one`;
        const allow = denyAccess(prefix);
        try {
          const subscription = store.subscribeToAll({ streamPrefix: prefix })[Symbol.asyncIterator]();
          const attempts = [
            () => store.appendToStream(stream, newEvents(1), { expectedRevision: 'no_stream' }),
            () => store.appendToStream(stream, newEvents(1), { expectedRevision: 'any' }),
            () => store.readStream(stream),
            () => subscription.next(),
          ];
          for (const attempt of attempts) {
            const error = await rejectionOf(attempt());
            expect(error).toBeInstanceOf(EventStoreAccessDeniedError);
            expect(error).toMatchObject({ code: 'EVENT_STORE.ACCESS_DENIED' });
          }
          await subscription.return?.();
        } finally {
          allow();
        }
        expect(await store.readStream(stream)).toEqual([]);
      });
    });

    describe('reads after own writes', () => {
      withFault('staleReplica', 'while replicas lag, the checks the store makes on its own writes read the leader: head, empty append, retry, read-back', async (staleReplica) => {
        const stream = uniqueStream('stale-replica');
        const first = newEvents(2);
        const resume = staleReplica();
        try {
          const written = await store.appendToStream(stream, first, { expectedRevision: 'no_stream' });

          expect(await store.headPosition()).toBeGreaterThanOrEqual(written.position);
          expect(await store.appendToStream(stream, [], { expectedRevision: 1 })).toEqual(written);
          expect(await store.appendToStream(stream, copies(first), { expectedRevision: 'any' })).toEqual(written);
          expect(await store.appendToStream(stream, copies(first), { expectedRevision: 'no_stream' })).toEqual(written);
          expect(await store.appendToStream(stream, copies(first), { expectedRevision: 1 })).toEqual(written);
          const next = await store.appendToStream(stream, newEvents(1), { expectedRevision: 'stream_exists' });
          expect(next.nextRevision).toBe(2);
        } finally {
          resume();
        }
        expect((await store.readStream(stream)).map((e) => e.revision)).toEqual([0, 1, 2]);
      });
    });

    describe('appendToStream: concurrency', () => {
      it('of concurrent appends expecting the same revision exactly one succeeds', async () => {
        const stream = uniqueStream('race');
        await store.appendToStream(stream, newEvents(1), { expectedRevision: 'no_stream' });
        const attempts = Array.from({ length: 10 }, (_, attempt) =>
          store.appendToStream(stream, [newEvent('Raced', { attempt })], { expectedRevision: 0 }),
        );
        const settled = await Promise.allSettled(attempts);
        const winners = settled.flatMap((s, attempt) => (s.status === 'fulfilled' ? [attempt] : []));
        const losers = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));

        expect(winners).toHaveLength(1);
        for (const error of losers) {
          expect(error).toBeInstanceOf(WrongExpectedRevisionError);
          expect(error).toMatchObject({ stream, expected: 0, actual: 1 });
        }
        const stored = await store.readStream(stream);
        expect(stored).toHaveLength(2);
        expect(stored[1].data).toEqual({ attempt: winners[0] });
      });

      it("of concurrent 'no_stream' appends exactly one creates the stream", async () => {
        const stream = uniqueStream('race-create');
        const settled = await Promise.allSettled(
          Array.from({ length: 10 }, () => store.appendToStream(stream, newEvents(1), { expectedRevision: 'no_stream' })),
        );

        expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
        expect(await store.readStream(stream)).toHaveLength(1);
      });

      it('concurrent appends to different streams all succeed', async () => {
        const streams = Array.from({ length: 50 }, (_, i) => uniqueStream(`fan-out-${i}`));
        const results = await Promise.all(streams.map((stream) => store.appendToStream(stream, newEvents(2), { expectedRevision: 'no_stream' })));

        expect(results.every((r) => r.nextRevision === 1)).toBe(true);
        expect(new Set(results.map((r) => r.position)).size).toBe(streams.length);
        for (const [index, stream] of streams.entries()) {
          const stored = await store.readStream(stream);
          expect(stored.map((e) => e.revision)).toEqual([0, 1]);
          expect(stored[1].position).toBe(results[index].position);
        }
      });
    });

    describe('readStream', () => {
      let stream: string;
      beforeAll(async () => {
        stream = uniqueStream('read');
        await store.appendToStream(stream, newEvents(5), { expectedRevision: 'no_stream' });
      });
      const revisions = async (options?: Parameters<EventStore['readStream']>[1]) => (await store.readStream(stream, options)).map((e) => e.revision);

      it('reads forwards from the start by default', async () => {
        expect(await revisions()).toEqual([0, 1, 2, 3, 4]);
        expect(await revisions({ direction: 'forwards' })).toEqual([0, 1, 2, 3, 4]);
      });

      it('reads forwards from an inclusive revision, up to maxCount', async () => {
        expect(await revisions({ fromRevision: 2 })).toEqual([2, 3, 4]);
        expect(await revisions({ fromRevision: 1, maxCount: 2 })).toEqual([1, 2]);
        expect(await revisions({ fromRevision: 5 })).toEqual([]);
      });

      it('reads backwards from the end by default', async () => {
        expect(await revisions({ direction: 'backwards' })).toEqual([4, 3, 2, 1, 0]);
        expect(await revisions({ direction: 'backwards', maxCount: 2 })).toEqual([4, 3]);
      });

      it('reads backwards from an inclusive revision, up to maxCount', async () => {
        expect(await revisions({ direction: 'backwards', fromRevision: 3, maxCount: 2 })).toEqual([3, 2]);
        expect(await revisions({ direction: 'backwards', fromRevision: 0 })).toEqual([0]);
      });

      it('reads an unknown stream as empty, in both directions', async () => {
        const unknown = uniqueStream('unknown');
        expect(await store.readStream(unknown)).toEqual([]);
        expect(await store.readStream(unknown, { direction: 'backwards' })).toEqual([]);
      });
    });

    describe('readAll and headPosition', () => {
      let ours: StoredEvent[];
      let streams: Set<string>;
      beforeAll(async () => {
        const a = uniqueStream('all-a');
        const b = uniqueStream('all-b');
        streams = new Set([a, b]);
        // Interleaved, one after the other: the global order is the order of these appends.
        await store.appendToStream(a, newEvents(1, 'A0'), { expectedRevision: 'no_stream' });
        await store.appendToStream(b, newEvents(1, 'B0'), { expectedRevision: 'no_stream' });
        await store.appendToStream(a, [newEvent('A1'), newEvent('A2')], { expectedRevision: 0 });
        await store.appendToStream(b, newEvents(1, 'B1'), { expectedRevision: 0 });
        ours = [...(await store.readStream(a)), ...(await store.readStream(b))].sort((x, y) => x.position - y.position);
      });
      const filterOurs = (events: StoredEvent[]) => events.filter((e) => streams.has(e.stream));

      it('reads all streams in global order', async () => {
        expect(ours.map((e) => e.type)).toEqual(['A0', 'B0', 'A1', 'A2', 'B1']);
        const all = await store.readAll({ fromPosition: ours[0].position });

        expectIncreasingPositions(all);
        expect(filterOurs(all)).toEqual(ours);
      });

      it('reads forwards from an inclusive position, up to maxCount', async () => {
        expect(await store.readAll({ fromPosition: ours[2].position, maxCount: 1 })).toEqual([ours[2]]);
        const page = await store.readAll({ fromPosition: ours[0].position, maxCount: 3 });

        expect(page).toHaveLength(3);
        expect(page[0]).toEqual(ours[0]);
        expectIncreasingPositions(page);
        expect(page[2].position).toBeLessThanOrEqual(ours[2].position);
      });

      it('reads backwards from an inclusive position, up to maxCount', async () => {
        const page = await store.readAll({ direction: 'backwards', fromPosition: ours[4].position, maxCount: 2 });

        expect(page).toHaveLength(2);
        expect(page[0]).toEqual(ours[4]);
        expect(page[1].position).toBeLessThan(ours[4].position);
        expect(page[1].position).toBeGreaterThanOrEqual(ours[3].position);

        // Paging backwards (each page starts at the last one's end) yields the global order reversed.
        const backwards: StoredEvent[] = [];
        let from = ours[4].position;
        for (;;) {
          const next = (await store.readAll({ direction: 'backwards', fromPosition: from, maxCount: 2 })).filter((e) => e.position !== from || backwards.length === 0);
          backwards.push(...next);
          if (next.length === 0 || next[next.length - 1].position <= ours[0].position) break;
          from = next[next.length - 1].position;
        }
        expect(filterOurs(backwards)).toEqual([...ours].reverse());
      });

      it('reads backwards from the end of the log by default', async () => {
        const [last] = await store.readAll({ direction: 'backwards', maxCount: 1 });
        expect(last.position).toBeGreaterThanOrEqual(ours[4].position);
      });

      it('headPosition is at least the position of the last append, and moves with the log', async () => {
        const before = await store.headPosition();
        expect(before).toBeGreaterThanOrEqual(ours[4].position);

        const result = await store.appendToStream(uniqueStream('head'), newEvents(1), { expectedRevision: 'no_stream' });
        const after = await store.headPosition();
        expect(result.position).toBeGreaterThan(before);
        expect(after).toBeGreaterThanOrEqual(result.position);
      });
    });

    describe('subscribeToAll', () => {
      it('replays, sends caughtUp once, then delivers live events', async () => {
        const prefix = uniquePrefix('sub');
        const stream = `${prefix}one`;
        const start = await store.headPosition();
        const replayed = newEvents(3);
        const appended = await store.appendToStream(stream, replayed, { expectedRevision: 'no_stream' });
        const subscription = reader(store.subscribeToAll({ fromPosition: start, streamPrefix: prefix }));
        try {
          const caughtUp = await subscription.until(isCaughtUp);
          expect(caughtUp).toEqual({ type: 'caughtUp', position: expect.any(Number) });
          expect((caughtUp as { position: number }).position).toBeGreaterThanOrEqual(appended.position);

          const live = newEvents(2);
          await store.appendToStream(stream, live, { expectedRevision: appended.nextRevision });
          await subscription.until(isEvent(live[1].id));

          expect(subscription.received.map(describeMessage)).toEqual([...replayed.map((e) => e.id), 'caughtUp', ...live.map((e) => e.id)]);
          expect(eventsOf(subscription.received)).toEqual(await store.readStream(stream));
        } finally {
          await subscription.close();
        }
      });

      it('resumes after the given position, exclusive', async () => {
        const prefix = uniquePrefix('resume');
        const events = newEvents(3);
        await store.appendToStream(`${prefix}one`, events, { expectedRevision: 'no_stream' });
        const stored = await store.readStream(`${prefix}one`);
        const subscription = reader(store.subscribeToAll({ fromPosition: stored[1].position, streamPrefix: prefix }));
        try {
          await subscription.until(isCaughtUp);
          expect(subscription.received.map(describeMessage)).toEqual([events[2].id, 'caughtUp']);
        } finally {
          await subscription.close();
        }
      });

      it('delivers only streams that start with streamPrefix (case-sensitive, no wildcards)', async () => {
        const id = randomUUID();
        const prefix = `contract_filter-${id}-`;
        const start = await store.headPosition();
        const wanted = [newEvent('Wanted'), newEvent('Wanted')];
        await store.appendToStream(`${prefix}one`, [wanted[0]], { expectedRevision: 'no_stream' });
        await store.appendToStream(`contractXfilter-${id}-two`, newEvents(1), { expectedRevision: 'no_stream' });
        await store.appendToStream(`CONTRACT_FILTER-${id}-three`, newEvents(1), { expectedRevision: 'no_stream' });
        await store.appendToStream(`other-${prefix}four`, newEvents(1), { expectedRevision: 'no_stream' });
        await store.appendToStream(`${prefix}five`, [wanted[1]], { expectedRevision: 'no_stream' });
        const subscription = reader(store.subscribeToAll({ fromPosition: start, streamPrefix: prefix }));
        try {
          await subscription.until(isCaughtUp);
          const live = newEvent('Wanted');
          await store.appendToStream(`other-${prefix}six`, newEvents(1), { expectedRevision: 'no_stream' });
          await store.appendToStream(`${prefix}seven`, [live], { expectedRevision: 'no_stream' });
          await subscription.until(isEvent(live.id));

          expect(subscription.received.map(describeMessage)).toEqual([wanted[0].id, wanted[1].id, 'caughtUp', live.id]);
        } finally {
          await subscription.close();
        }
      });

      it('eventTypes: every event of those types arrives in order, and progress past the others is reported', async () => {
        const prefix = uniquePrefix('types');
        const start = await store.headPosition();
        const wanted = [newEvent('Wanted'), newEvent('AlsoWanted')];
        await store.appendToStream(`${prefix}one`, [newEvent('Unwanted'), wanted[0], newEvent('Unwanted')], { expectedRevision: 'no_stream' });
        await store.appendToStream(`${prefix}two`, [wanted[1], newEvent('WantedNot')], { expectedRevision: 'no_stream' });
        const subscription = reader(store.subscribeToAll({ fromPosition: start, streamPrefix: prefix, eventTypes: ['Wanted', 'AlsoWanted'] }));
        try {
          await subscription.until(isCaughtUp);
          // Live: the last appends are of a type not asked for; a reader waiting for their
          // position (read-your-writes) must still learn that the subscription got past them.
          const live = newEvent('Wanted');
          await store.appendToStream(`${prefix}three`, [live], { expectedRevision: 'no_stream' });
          const unwanted = await store.appendToStream(`${prefix}three`, [newEvent('Unwanted'), newEvent('Unwanted')], { expectedRevision: 0 });
          await subscription.until(hasPassed(unwanted.position));

          const delivered = eventsOf(subscription.received);
          // An adapter may deliver other types too (the option is a hint); the wanted ones must all come, in order.
          expect(delivered.filter((e) => e.type === 'Wanted' || e.type === 'AlsoWanted').map((e) => e.id)).toEqual([wanted[0].id, wanted[1].id, live.id]);
          expect(delivered.every((e) => e.stream.startsWith(prefix))).toBe(true);
          expectIncreasingPositions(delivered);
        } finally {
          await subscription.close();
        }
      });

      it('neither loses nor repeats events appended while the replay runs', async () => {
        const prefix = uniquePrefix('during-replay');
        const stream = `${prefix}log`;
        const start = await store.headPosition();
        let revision: ExpectedRevision = 'no_stream';
        // Long enough that an adapter reading in pages needs several.
        for (let i = 0; i < 3; i++) revision = (await store.appendToStream(stream, newEvents(500), { expectedRevision: revision })).nextRevision;
        const subscription = reader(store.subscribeToAll({ fromPosition: start, streamPrefix: prefix }));
        try {
          await subscription.until((m) => m.type === 'event');
          revision = (await store.appendToStream(stream, newEvents(30), { expectedRevision: revision })).nextRevision;
          await store.appendToStream(`${prefix}side`, newEvents(5), { expectedRevision: 'no_stream' });
          await subscription.until((m) => m.type === 'event' && m.event.stream === stream && m.event.revision === 1200);
          revision = (await store.appendToStream(stream, newEvents(30), { expectedRevision: revision })).nextRevision;
          // A sentinel appended after everything else: a repeat would show up before it.
          const sentinel = newEvent('Sentinel');
          await store.appendToStream(stream, [sentinel], { expectedRevision: revision });
          await subscription.until(isEvent(sentinel.id));

          const delivered = eventsOf(subscription.received);
          expect(delivered.filter((e) => e.stream === stream).map((e) => e.revision)).toEqual(range(1561));
          expect(delivered.filter((e) => e.stream !== stream).map((e) => e.revision)).toEqual(range(5));
          expectIncreasingPositions(delivered);
          expect(subscription.received.filter(isCaughtUp)).toHaveLength(1);
        } finally {
          await subscription.close();
        }
      });

      it('says caughtUp on a quiet log whose last events it does not deliver', async () => {
        const prefix = uniquePrefix('quiet');
        const start = await store.headPosition();
        const wanted = newEvents(2);
        await store.appendToStream(`${prefix}one`, wanted, { expectedRevision: 'no_stream' });
        // The log's last events belong to other streams: the subscription never sees them.
        for (let i = 0; i < 3; i++) await store.appendToStream(uniqueStream('quiet-other'), newEvents(1), { expectedRevision: 'no_stream' });
        const subscription = reader(store.subscribeToAll({ fromPosition: start, streamPrefix: prefix }));
        try {
          const caughtUp = await subscription.until(isCaughtUp);

          expect(subscription.received.map(describeMessage)).toEqual([...wanted.map((e) => e.id), 'caughtUp']);
          const stored = await store.readStream(`${prefix}one`);
          expect((caughtUp as { position: number }).position).toBeGreaterThanOrEqual(stored[1].position);
        } finally {
          await subscription.close();
        }
      });

      it('delivers a burst of live events larger than a server’s live buffer whole, in order, once, with one caughtUp', async () => {
        const prefix = uniquePrefix('burst');
        const stream = `${prefix}one`;
        const subscription = reader(store.subscribeToAll({ fromPosition: await store.headPosition(), streamPrefix: prefix }));
        try {
          await subscription.until(isCaughtUp);
          const burst = newEvents(100, 'Burst');
          await store.appendToStream(stream, burst, { expectedRevision: 'no_stream' });
          const after = newEvent('After');
          await store.appendToStream(stream, [after], { expectedRevision: 99 });
          await subscription.until(isEvent(after.id));

          expect(subscription.received.map(describeMessage)).toEqual(['caughtUp', ...burst.map((e) => e.id), after.id]);
        } finally {
          await subscription.close();
        }
      });

      withFault('dropSubscriptions', 'resumes after the server drops it, from where it was, without losing or repeating an event', async (dropSubscriptions) => {
        const prefix = uniquePrefix('dropped');
        const start = await store.headPosition();
        const replayed = newEvents(2, 'Replayed');
        await store.appendToStream(`${prefix}a`, replayed, { expectedRevision: 'no_stream' });
        // Other streams after ours: a server may hand the subscription a checkpoint past its last event.
        for (let i = 0; i < 40; i++) await store.appendToStream(uniqueStream('dropped-other'), newEvents(1), { expectedRevision: 'no_stream' });
        const subscription = reader(store.subscribeToAll({ fromPosition: start, streamPrefix: prefix }));
        try {
          await subscription.until(isCaughtUp);
          expect(dropSubscriptions()).toBeGreaterThan(0);
          const live = [newEvent('Live'), newEvent('Live')];
          await store.appendToStream(`${prefix}a`, [live[0]], { expectedRevision: 1 });
          await store.appendToStream(`${prefix}b`, [live[1]], { expectedRevision: 'no_stream' });
          await subscription.until(isEvent(live[1].id));

          expect(subscription.received.map(describeMessage)).toEqual([...replayed.map((e) => e.id), 'caughtUp', ...live.map((e) => e.id)]);
        } finally {
          await subscription.close();
        }
      });

      it('ends when its signal aborts, also while waiting for live events', async () => {
        const prefix = uniquePrefix('abort');
        const controller = new AbortController();
        const subscription = reader(store.subscribeToAll({ fromPosition: await store.headPosition(), streamPrefix: prefix, signal: controller.signal }));
        await subscription.until(isCaughtUp);
        const waiting = subscription.next();
        controller.abort();

        await expect(waiting).resolves.toMatchObject({ done: true });
        await store.appendToStream(`${prefix}after`, newEvents(1), { expectedRevision: 'no_stream' });
        await expect(subscription.next()).resolves.toMatchObject({ done: true });
      });

      it('ends at once when its signal is already aborted', async () => {
        const controller = new AbortController();
        controller.abort();
        const received: SubscriptionMessage[] = [];
        for await (const message of store.subscribeToAll({ fromPosition: await store.headPosition(), signal: controller.signal })) received.push(message);

        expect(received).toEqual([]);
      });

      it('ends when the consumer breaks out of the loop', async () => {
        const prefix = uniquePrefix('break');
        const start = await store.headPosition();
        await store.appendToStream(`${prefix}one`, newEvents(2), { expectedRevision: 'no_stream' });
        const received: SubscriptionMessage[] = [];
        for await (const message of store.subscribeToAll({ fromPosition: start, streamPrefix: prefix })) {
          received.push(message);
          if (message.type === 'event') break;
        }

        expect(received).toHaveLength(1);
      });
    });

    describe('close', () => {
      it('writes appends already accepted, ends live subscriptions, then rejects appends', async () => {
        const own = await create();
        try {
          const prefix = uniquePrefix('close');
          const subscription = reader(own.store.subscribeToAll({ fromPosition: await own.store.headPosition(), streamPrefix: prefix }));
          await subscription.until(isCaughtUp);
          const waiting = subscription.next();
          const accepted = own.store.appendToStream(`${prefix}one`, newEvents(1), { expectedRevision: 'no_stream' });
          await own.store.close();

          await expect(accepted).resolves.toMatchObject({ nextRevision: 0 });
          // The last event may or may not be delivered before the end; the subscription must end.
          let result = await waiting;
          while (!result.done) result = await subscription.next();
          await expect(own.store.appendToStream(`${prefix}two`, newEvents(1), { expectedRevision: 'any' })).rejects.toThrow(/close/i);
        } finally {
          await own.store.close();
          await own.cleanup?.();
        }
      });
    });
  });
}

function uniqueStream(label: string): string {
  return `contract-${label}-${randomUUID()}`;
}

function uniquePrefix(label: string): string {
  return `contract-${label}-${randomUUID()}-`;
}

function newEvent(type: string, data: Record<string, unknown> = {}): NewEvent {
  return { id: randomUUID(), type, data, metadata: { source: 'contract' } };
}

function newEvents(count: number, type = 'Counted'): NewEvent[] {
  return Array.from({ length: count }, (_, n) => newEvent(type, { n }));
}

/** The same events as fresh objects, as a client retrying after a timeout would send them. */
function copies(events: readonly NewEvent[]): NewEvent[] {
  return events.map((e) => ({ ...e, data: { ...e.data }, metadata: { ...e.metadata } }));
}

function range(count: number): number[] {
  return Array.from({ length: count }, (_, i) => i);
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

async function expectWrongRevision(promise: Promise<AppendResult>, stream: string, expected: ExpectedRevision, actual: StreamRevision): Promise<void> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(WrongExpectedRevisionError);
  expect(error).toMatchObject({ stream, expected, actual });
}

async function expectDuplicate(promise: Promise<AppendResult>, stream: string, eventId: string): Promise<void> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(DuplicateEventIdError);
  expect(error).toMatchObject({ code: 'EVENT_STORE.DUPLICATE_EVENT_ID', stream, eventId });
}

function expectIncreasingPositions(events: readonly StoredEvent[]): void {
  for (const [index, event] of events.entries()) {
    expect(event.position).toBeGreaterThan(index === 0 ? 0 : events[index - 1].position);
  }
}

function isCaughtUp(message: SubscriptionMessage): boolean {
  return message.type === 'caughtUp';
}

/** The subscription has looked at the log up to `position`: an event, checkpoint or caughtUp at or past it. */
function hasPassed(position: number): (message: SubscriptionMessage) => boolean {
  return (message) => (message.type === 'event' ? message.event.position : message.position) >= position;
}

function isEvent(id: string): (message: SubscriptionMessage) => boolean {
  return (message) => message.type === 'event' && message.event.id === id;
}

function describeMessage(message: SubscriptionMessage): string {
  return message.type === 'event' ? message.event.id : message.type;
}

function eventsOf(messages: readonly SubscriptionMessage[]): StoredEvent[] {
  return messages.flatMap((m) => (m.type === 'event' ? [m.event] : []));
}

/**
 * Pulls messages one at a time, remembering them; close() ends the subscription. Checkpoints may
 * come at any time (a store may send them whenever it has looked further), so they are kept apart
 * from `received`, after checking that they only ever move forwards.
 */
function reader(subscription: AsyncIterable<SubscriptionMessage>) {
  const iterator = subscription[Symbol.asyncIterator]();
  const received: SubscriptionMessage[] = [];
  const checkpoints: number[] = [];
  return {
    received,
    checkpoints,
    next: () => iterator.next(),
    async until(predicate: (message: SubscriptionMessage) => boolean): Promise<SubscriptionMessage> {
      for (;;) {
        const result = await iterator.next();
        if (result.done) throw new Error(`The subscription ended after ${received.length} messages, before the one awaited`);
        const message = result.value;
        if (message.type === 'checkpoint') {
          expect(message.position).toBeGreaterThanOrEqual(checkpoints.at(-1) ?? 0);
          checkpoints.push(message.position);
        } else {
          received.push(message);
        }
        if (predicate(message)) return message;
      }
    },
    async close(): Promise<void> {
      await iterator.return?.();
    },
  };
}
