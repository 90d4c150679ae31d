// Catch-up subscriptions to $all as the mode's server runs them (§5 of SERVER-BEHAVIOUR.md): the
// start rule, catch-up pages and their checkpoints, caughtUp, live delivery and what happens when
// the live buffer overflows. Every write, live or not, goes through a response buffer that waits for
// the client when full: a real server delivers a large append whole, without waiting for the next
// one, and holds back only what the client has not taken (§5.6).
import { randomUUID } from 'node:crypto';
import type * as grpcTypes from '@grpc/grpc-js';
import type { ReadReq, ReadResp } from '@kurrent/kurrentdb-client/generated/kurrentdb/protocols/v1/streams_pb';
import type { DoubleFilter, DoubleLog, DoubleRecord } from './double-log';
import { matchesFilter } from './double-log';
import { caughtUpResponse, checkpointResponse, confirmationResponse, eventResponse, failCall, RpcError, type WirePosition } from './double-messages';
import type { ServerBehaviour } from './double-modes';

/** Enumerator.ReadBatchSize: a catch-up page holds at most this many events, and searches this many records by default. */
export const READ_BATCH_SIZE = 32;
/**
 * Live messages that can wait for the response buffer: the live channel (MaxLiveEventBufferCount /
 * DefaultLiveBufferSize, 32) and the channel behind it to the gRPC writer (32). One more overflows.
 */
export const LIVE_BUFFER_SIZE = 64;
/** The response buffer (Kestrel's per-stream MaxResponseBufferSize, 64 KiB): writes wait once it holds this much unsent. */
const RESPONSE_BUFFER_BYTES = 64 * 1024;

export interface LiveSubscription {
  /** Ends the call with UNAVAILABLE, as a node restart or a leader change would. */
  drop(): void;
}

interface Options {
  readonly call: grpcTypes.ServerWritableStream<ReadReq, ReadResp>;
  readonly options: ReadReq.Options;
  /** Where it starts: a position (exclusive), the start of the log, or its end. */
  readonly start: WirePosition | 'start' | 'end';
  readonly filter: DoubleFilter | undefined;
  readonly structuredIds: boolean;
  readonly log: DoubleLog;
  readonly behaviour: ServerBehaviour;
  readonly registry: Set<LiveSubscription>;
  /** Counts the events written to subscribers (what the server has sent, whether or not read yet). */
  readonly sent: { events: number };
}

type LiveEntry = { readonly seq: number; readonly record: DoubleRecord } | { readonly seq: number; readonly checkpoint: WirePosition };

const HEAD_OF_TF: WirePosition = { commit: -1n, prepare: -1n };
const FIRST_RECORD_OF_TF: WirePosition = { commit: 0n, prepare: 0n };

export function runSubscription(options: Options): void {
  new DoubleSubscription(options).start();
}

class DoubleSubscription implements LiveSubscription {
  private ended = false;
  private readonly live: LiveEntry[] = [];
  private liveSeq = 0;
  private wake: (() => void) | undefined;
  private stopListening = () => {};
  private readonly window: number;
  private readonly checkpointInterval: number;
  /** Records looked at by the live subscription since its last checkpoint (SubscriptionsService). */
  private liveCounter = 0;
  private liveCursor = 0;
  private readonly endedSignal: Promise<void>;
  /** Bytes written to the call that it has not yet flushed to the client. */
  private unsentBytes = 0;
  private flushed: (() => void) | undefined;
  private signalEnd = () => {};

  constructor(private readonly o: Options) {
    this.endedSignal = new Promise<void>((resolve) => (this.signalEnd = resolve));
    const filterOptions = o.options.hasFilter() ? o.options.getFilter()! : undefined;
    this.window = filterOptions?.hasMax() ? filterOptions.getMax() : READ_BATCH_SIZE;
    this.checkpointInterval = filterOptions ? this.window * Math.max(1, filterOptions.getCheckpointintervalmultiplier()) : 0;
  }

  start(): void {
    this.o.registry.add(this);
    const end = () => this.end();
    this.o.call.on('cancelled', end);
    this.o.call.on('close', end);
    this.o.call.on('error', end);
    const run = this.o.behaviour.subscriptions === 'pre-24.2' ? this.runBefore242() : this.runSince242();
    run.catch((error: unknown) => {
      if (!this.ended) this.fail(error instanceof Error && 'code' in error ? (error as grpcTypes.ServiceError) : RpcError.unavailable(String(error)));
    });
  }

  drop(): void {
    this.fail(RpcError.unavailable('Server is shutting down or the subscription was dropped'));
  }

  // ---- 22.10 and 23.10: Enumerators.AllSubscription(Filtered) -----------------------------

  private async runBefore242(): Promise<void> {
    const { log, start } = this.o;
    // Start rule (§5.1): read one record at or after the position, continue after it.
    let cursor = start === 'start' ? 0 : start === 'end' ? log.length : log.indexAtOrAfter(start.commit, start.prepare);
    if (start !== 'start' && start !== 'end' && cursor < log.length) cursor += 1;
    await this.send(confirmationResponse(randomUUID()));
    let counter = 0;
    if (start !== 'end') {
      for (;;) {
        if (this.ended) return;
        const pageStart = this.pageStartAt(cursor, start === 'start' && cursor === 0);
        const page = this.readPage(cursor);
        cursor = page.next;
        let position = pageStart;
        for (const record of page.events) {
          await this.send(eventResponse(record, this.o.structuredIds));
          position = at(record);
        }
        counter += page.considered;
        if (page.endOfLog) break; // goes live without a checkpoint
        if (this.checkpointInterval > 0 && counter >= this.checkpointInterval) {
          counter %= this.checkpointInterval;
          await this.send(checkpointResponse(position));
        }
      }
    }
    // Going live in the same turn as reaching the end: no append slips between.
    this.liveCounter = counter;
    this.listen(cursor, 'wait');
    if (this.o.behaviour.caughtUp !== 'none') await this.send(caughtUpResponse(undefined, false));
    for (;;) {
      const entry = await this.nextLive();
      if (!entry) return;
      await this.send('record' in entry ? eventResponse(entry.record, this.o.structuredIds) : checkpointResponse(entry.checkpoint));
    }
  }

  // ---- 24.2 and later: Enumerator.AllSubscription(Filtered) MainLoop -----------------------

  private async runSince242(): Promise<void> {
    const { log, start } = this.o;
    // The live subscription starts first; the catch-up then runs up to where it started (§5.4).
    this.listen(log.length, 'drop-oldest');
    await this.send(confirmationResponse(randomUUID()));
    let checkpoint: WirePosition = start === 'start' ? HEAD_OF_TF : start === 'end' ? at(log.last()) ?? FIRST_RECORD_OF_TF : start;
    let lastSeq = 0;
    let catchUp = start !== 'end';
    for (;;) {
      if (catchUp) checkpoint = await this.catchUpFrom(checkpoint);
      if (this.ended) return;
      await this.send(caughtUpResponse(checkpoint.commit < 0n ? undefined : checkpoint, this.o.behaviour.caughtUp === 'with-position'));
      catchUp = true;
      for (;;) {
        const entry = await this.nextLive();
        if (!entry) return;
        const inOrder = entry.seq === lastSeq + 1;
        lastSeq = entry.seq;
        if ('record' in entry && compare(at(entry.record), checkpoint) <= 0) continue;
        if ('checkpoint' in entry && compare(entry.checkpoint, checkpoint) < 0) continue;
        if (!inOrder) {
          // Fell behind (not told to the client): a checkpoint, then catch up again (§5.5).
          await this.sendCheckpoint(checkpoint);
          break;
        }
        if ('record' in entry) {
          await this.send(eventResponse(entry.record, this.o.structuredIds));
          checkpoint = at(entry.record);
        } else {
          await this.sendCheckpoint(entry.checkpoint);
          checkpoint = entry.checkpoint;
        }
      }
    }
  }

  private async catchUpFrom(from: WirePosition): Promise<WirePosition> {
    const { log } = this.o;
    let checkpoint = from;
    let counter = 0;
    let pageStart = from.commit < 0n ? FIRST_RECORD_OF_TF : from;
    let cursor = log.indexAtOrAfter(pageStart.commit, pageStart.prepare);
    for (;;) {
      if (this.ended) return checkpoint;
      const page = this.readPage(cursor);
      cursor = page.next;
      for (const record of page.events) {
        if (compare(at(record), checkpoint) <= 0) continue; // only the first event of the first page
        await this.send(eventResponse(record, this.o.structuredIds));
        checkpoint = at(record);
      }
      const nextPos = this.pageStartAt(cursor, false);
      // A page start is a checkpoint of the form (C, 0) once the page has been read past it (§5.3).
      if (compare(checkpoint, pageStart) < 0 && compare(pageStart, nextPos) < 0) checkpoint = pageStart;
      counter += page.considered;
      if (page.endOfLog) {
        if (compare(checkpoint, FIRST_RECORD_OF_TF) < 0 && compare(FIRST_RECORD_OF_TF, nextPos) < 0) checkpoint = FIRST_RECORD_OF_TF;
        await this.sendCheckpoint(checkpoint); // at the end of every catch-up
        return checkpoint;
      }
      if (this.checkpointInterval > 0 && counter >= this.checkpointInterval) {
        counter %= this.checkpointInterval;
        await this.sendCheckpoint(checkpoint);
      }
      pageStart = nextPos;
    }
  }

  private async sendCheckpoint(position: WirePosition): Promise<void> {
    // Unfiltered subscriptions send no checkpoints; nor is there one before the first record.
    if (this.checkpointInterval === 0 || position.commit < 0n) return;
    await this.send(checkpointResponse(position));
  }

  // ---- shared --------------------------------------------------------------------------------

  /** A filtered read page: up to READ_BATCH_SIZE events among at most `window` records. */
  private readPage(from: number): { events: DoubleRecord[]; considered: number; next: number; endOfLog: boolean } {
    const { log, filter } = this.o;
    const events: DoubleRecord[] = [];
    let considered = 0;
    let cursor = from;
    const limit = this.o.filter ? this.window : READ_BATCH_SIZE;
    while (cursor < log.length && events.length < READ_BATCH_SIZE && considered < limit) {
      const record = log.at(cursor++);
      considered += 1;
      if (matchesFilter(filter, record)) events.push(record);
    }
    return { events, considered, next: cursor, endOfLog: cursor >= log.length };
  }

  /** The (C, 0) position a page starting at this record reports; the start of the log is (0, 0). */
  private pageStartAt(index: number, logStart: boolean): WirePosition {
    if (logStart) return FIRST_RECORD_OF_TF;
    return { commit: index < this.o.log.length ? this.o.log.at(index).position : this.o.log.endPosition, prepare: 0n };
  }

  /** Queues what the log indexes from `from` on, counting live checkpoints; overflow per the mode. */
  private listen(from: number, overflow: 'wait' | 'drop-oldest'): void {
    this.liveCursor = from;
    const take = () => {
      while (!this.ended && this.liveCursor < this.o.log.length) {
        const record = this.o.log.at(this.liveCursor++);
        if (matchesFilter(this.o.filter, record)) this.enqueue({ seq: ++this.liveSeq, record }, overflow);
        if (this.checkpointInterval === 0) continue;
        this.liveCounter += 1;
        if (this.liveCounter >= this.checkpointInterval) {
          this.liveCounter = 0;
          this.enqueue({ seq: ++this.liveSeq, checkpoint: at(record) }, overflow);
        }
      }
    };
    this.stopListening = this.o.log.onIndexed(take);
    take(); // what was indexed since the catch-up read its last page
  }

  private enqueue(entry: LiveEntry, overflow: 'wait' | 'drop-oldest'): void {
    if (this.ended) return;
    this.live.push(entry);
    if (this.live.length > LIVE_BUFFER_SIZE) {
      if (overflow === 'drop-oldest') this.live.shift();
      // 22.10/23.10: TryWrite on a full live channel ends the subscription (§5.5).
      else return this.fail(RpcError.timeout('Consumer too slow to handle event while live. Client resubscription required.'));
    }
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private async nextLive(): Promise<LiveEntry | undefined> {
    while (!this.ended && this.live.length === 0) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.ended ? undefined : this.live.shift();
  }

  /** Writes one message; once the response buffer holds 64 KiB the client has not taken, waits for half of it to go. */
  private async send(message: ReadResp): Promise<void> {
    if (this.ended) return;
    const size = message.serializeBinary().length;
    this.unsentBytes += size;
    if (message.hasEvent()) this.o.sent.events += 1;
    this.o.call.write(message, () => {
      this.unsentBytes -= size;
      if (this.unsentBytes <= RESPONSE_BUFFER_BYTES / 2) {
        const flushed = this.flushed;
        this.flushed = undefined;
        flushed?.();
      }
    });
    if (this.unsentBytes <= RESPONSE_BUFFER_BYTES) return;
    await Promise.race([new Promise<void>((resolve) => (this.flushed = resolve)), this.endedSignal]);
  }

  private fail(error: grpcTypes.ServiceError): void {
    if (this.ended) return;
    this.end();
    failCall(this.o.call, error);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.signalEnd();
    this.stopListening();
    this.o.registry.delete(this);
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

function at(record: DoubleRecord): WirePosition;
function at(record: DoubleRecord | undefined): WirePosition | undefined;
function at(record: DoubleRecord | undefined): WirePosition | undefined {
  return record ? { commit: record.position, prepare: record.position } : undefined;
}

/** TFPos order: by commit, then prepare. */
function compare(a: WirePosition, b: WirePosition): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  return a.prepare === b.prepare ? 0 : a.prepare < b.prepare ? -1 : 1;
}
