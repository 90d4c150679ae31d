import { setTimeout as sleep } from 'node:timers/promises';
import { EventStoreAccessDeniedError, firstEventId, NO_ANCHOR, READ_REFUSED_ADVICE, SQLiteFileError, type EventStore, type LogAnchor } from '@stagecraft/event-store';
import { describeLogReplaced, LOG_REPLACED } from './checkpoint-log';
import type { OutgoingEvent } from './outgoing-event';
import { PublicEventFeed } from './public-event.feed';
import { anchorAtOrBefore, checkpointLostOn } from './checkpoint-log.reads';
import type { DeadLetter, RelayStateStore, SinkError } from './relay-state.store';
import { describeError, heldBackBehind, type RelaySink } from './sinks/relay-sink.port';

export interface SinkRunnerOptions {
  readonly newSinkFrom: 'end' | 'beginning';
  readonly retryBaseMs: number;
  readonly retryMaxMs: number;
  /** Events per publish: pipelined for brokers, one for webhooks (each answered event is checkpointed). */
  readonly maxBatch: number;
  /** Mapped events read ahead of the publisher; the subscription waits when it is full. */
  readonly readAhead: number;
  /** How often an idle runner looks for a replay asked for by the CLI. */
  readonly replayCheckMs: number;
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void;
}

/** `log-replaced`: its checkpoint belongs to another log than the one it reads; it waits for `stagecraft relay start-over` (checkpoint-log.ts). */
export type SinkState = 'starting' | 'live' | 'retrying' | typeof LOG_REPLACED | 'stopped';

export interface SinkStatus {
  readonly sink: string;
  readonly kind: string;
  readonly state: SinkState;
  /** Everything at or before this log position has been published (or dead-lettered). */
  readonly checkpoint: number;
  /** Events published since this process started (repeats after a failed batch included). */
  readonly published: number;
  readonly lastError?: string;
  readonly lastErrorAt?: string;
  /** Failed attempts since the last success. */
  readonly failures: number;
}

interface Item {
  readonly position: number;
  /** Set for an event (not for a position the log only says it passed). */
  readonly eventId?: string;
  readonly outgoing?: OutgoingEvent;
}

class Stopped extends Error {}

/** The sink acknowledged a batch but its checkpoint could not be written to RELAY_STATE_PATH (the batch goes again). */
class CheckpointNotSaved extends Error {
  constructor(readonly reason: unknown) {
    super(describeError(reason));
  }
}

/**
 * Why following failed, for lastError: the state file's own fault names RELAY_STATE_PATH and the
 * file (a full disk there is not the event log's), a server refusing the user EVENT_STORE_URL;
 * anything else is the log's.
 */
function describeRunFailure(error: unknown): string {
  if (error instanceof CheckpointNotSaved) return `its checkpoint could not be saved: ${error.message}; the events since the last one saved are sent again once it can be`;
  if (error instanceof SQLiteFileError && error.variable === 'RELAY_STATE_PATH') return `its state file could not be used: ${error.message}`;
  // No retry cures a refusal (a password rotated, an ACL changed): it is retried still, and names the setting to correct.
  if (error instanceof EventStoreAccessDeniedError) return `the event log could not be followed: ${describeError(error)}; ${READ_REFUSED_ADVICE}`;
  return `the event log could not be followed: ${describeError(error)}`;
}

/** The batch's last event (not a bare position), the anchor its checkpoint is saved with. */
function lastEventOf(batch: readonly Item[]): LogAnchor | undefined {
  for (let i = batch.length - 1; i >= 0; i--) {
    const { position, eventId } = batch[i]!;
    if (eventId !== undefined) return { position, eventId };
  }
  return undefined;
}

/**
 * Follows the log for one sink, from that sink's own checkpoint: reads ahead into a bounded queue,
 * publishes in log order, and moves the checkpoint only past what the sink acknowledged (or, for
 * a webhook, gave up on and dead-lettered). A sink that fails is retried with backoff, forever;
 * meanwhile nothing moves, so the lag grows, and once it answers it goes on from the first event
 * it did not acknowledge. Commands never wait for any of this: the store delivers only committed
 * events, and the runner only reads.
 */
export class SinkRunner {
  private readonly stopController = new AbortController();
  private loop?: Promise<void>;
  private state: SinkState = 'starting';
  private position = 0;
  private published = 0;
  private failures = 0;
  private lastError?: { message: string; at: string };
  /** The error the state file holds for this sink (what `relay status` shows), as last written or read. */
  private savedError?: SinkError;
  private logId = '';
  private anchor: LogAnchor = NO_ANCHOR;

  constructor(
    private readonly store: EventStore,
    private readonly relayState: RelayStateStore,
    private readonly sink: RelaySink,
    private readonly options: SinkRunnerOptions,
  ) {}

  get key(): string {
    return this.sink.config.key;
  }

  start(): void {
    if (this.loop) throw new Error(`The relay to ${this.key} is already running`);
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopController.abort();
    await this.loop;
    await this.sink.close().catch(() => undefined);
    this.state = 'stopped';
  }

  status(): SinkStatus {
    return {
      sink: this.key,
      kind: this.sink.config.kind,
      state: this.state,
      checkpoint: this.position,
      published: this.published,
      failures: this.failures,
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
    };
  }

  private async run(): Promise<void> {
    const stop = this.stopController.signal;
    for (let attempt = 0; !stop.aborted; ) {
      try {
        const { position, generation, lost } = await this.openCheckpoint();
        this.position = position;
        if (lost !== undefined) {
          await this.waitForStartOver(generation, lost);
          continue;
        }
        if (this.state === LOG_REPLACED) this.state = 'starting';
        await this.follow(position, generation);
        attempt = 0; // a replay was asked for: start again at once
      } catch (error) {
        if (stop.aborted || error instanceof Stopped) break;
        this.failed(describeRunFailure(error));
        await this.backoff(attempt++).catch(() => undefined);
      }
    }
  }

  // A sink seen for the first time starts at the log's end (or beginning), anchored on the event
  // there. A checkpoint taken on another log, past this log's head, or whose last event the log no
  // longer holds there (a store restored from an older backup, before or after it was written on
  // again) is not followed from anywhere: `lost` says why, and the operator chooses (checkpoint-log.ts).
  private async openCheckpoint(): Promise<{ position: number; generation: number; lost?: string }> {
    this.logId = await firstEventId(this.store);
    let checkpoint = this.relayState.checkpoint(this.key);
    if (!checkpoint) {
      const head = await this.store.headPosition();
      const from = this.options.newSinkFrom === 'end' ? head : 0;
      this.relayState.create(this.key, from, this.logId, await anchorAtOrBefore(this.store, from));
      checkpoint = this.relayState.checkpoint(this.key)!;
      this.options.log('info', `Relay to ${this.key}: first start, from ${this.options.newSinkFrom === 'end' ? `the end of the log (position ${head})` : 'the beginning of the log'}`);
    } else {
      const lost = await checkpointLostOn(this.store, checkpoint);
      if (lost !== undefined) return { position: checkpoint.position, generation: checkpoint.generation, lost };
    }
    this.anchor = checkpoint.anchor;
    this.savedError = checkpoint.lastError;
    return { position: checkpoint.position, generation: checkpoint.generation };
  }

  /**
   * Publishes nothing until an operator starts the sink over (a new generation) or the log holds
   * its checkpoint again (the right store back), looked at again every RELAY_RETRY_MAX_MS.
   */
  private async waitForStartOver(generation: number, why: string): Promise<void> {
    const message = describeLogReplaced(this.key, this.position, why);
    if (this.lastError?.message !== message) this.options.log('error', `Relay to ${this.key}: ${message}`);
    if (this.state !== LOG_REPLACED || this.lastError?.message !== message) this.lastError = { message, at: new Date().toISOString() };
    this.saveError(message);
    this.state = LOG_REPLACED;
    const stop = this.stopController.signal;
    for (let waited = 0; waited < this.options.retryMaxMs && !stop.aborted && !this.replayRequested(generation); waited += this.options.replayCheckMs) {
      await sleep(this.options.replayCheckMs, undefined, { signal: stop }).catch(() => undefined);
    }
    if (stop.aborted) throw new Stopped();
  }

  private async follow(from: number, generation: number): Promise<void> {
    const stop = this.stopController.signal;
    const subscription = new AbortController();
    const stopSubscription = () => subscription.abort();
    stop.addEventListener('abort', stopSubscription, { once: true });
    const feed = new PublicEventFeed(this.store, undefined, (reason) => this.options.log('warn', `Relay to ${this.key}: ${reason}`));
    // Read at each (re)start, so a replay that cleared dead letters lets their opportunities go
    // again, and one after a discard leaves the discarded events out.
    const heldBehind = this.deadLetteredOpportunities();
    const discarded = this.relayState.discarded(this.key);
    const queue: Item[] = [];
    let readerDone = false;
    let readerError: unknown;
    let wakePublisher: (() => void) | undefined;
    let wakeReader: (() => void) | undefined;
    const wake = (which: 'publisher' | 'reader') => {
      const resolve = which === 'publisher' ? wakePublisher : wakeReader;
      if (which === 'publisher') wakePublisher = undefined;
      else wakeReader = undefined;
      resolve?.();
    };

    const reader = (async () => {
      try {
        for await (const message of this.store.subscribeToAll({ fromPosition: from, signal: subscription.signal })) {
          if (message.type === 'event') {
            const outgoing = await feed.toOutgoing(message.event);
            const { position, id: eventId } = message.event;
            queue.push(outgoing ? { position, eventId, outgoing } : { position, eventId });
          } else {
            queue.push({ position: message.position });
          }
          wake('publisher');
          if (queue.length >= this.options.readAhead) await new Promise<void>((resolve) => (wakeReader = resolve));
          if (subscription.signal.aborted) break;
        }
      } catch (error) {
        if (!subscription.signal.aborted) readerError = error;
      } finally {
        readerDone = true;
        wake('publisher');
      }
    })();

    try {
      for (;;) {
        if (stop.aborted) throw new Stopped();
        if (queue.length === 0) {
          if (readerDone) throw readerError ?? new Error('the subscription ended');
          if (this.state === 'starting') this.state = 'live';
          const timer = setTimeout(() => wake('publisher'), this.options.replayCheckMs);
          await new Promise<void>((resolve) => (wakePublisher = resolve));
          clearTimeout(timer);
          if (queue.length === 0 && this.replayRequested(generation)) return;
          continue;
        }
        const batch = this.takeBatch(queue);
        wake('reader');
        const deadLetters = await this.publish(batch, heldBehind, discarded);
        const last = batch[batch.length - 1]!.position;
        if (this.logId === '') this.logId = await firstEventId(this.store);
        const anchor = lastEventOf(batch) ?? this.anchor;
        let advanced: boolean;
        try {
          advanced = this.relayState.advance(this.key, generation, last, this.logId, anchor, deadLetters);
        } catch (error) {
          throw new CheckpointNotSaved(error);
        }
        if (!advanced) return; // a replay was asked for meanwhile
        this.position = last;
        this.anchor = anchor;
        if (this.failures > 0) this.options.log('info', `Relay to ${this.key}: delivering again after ${this.failures} failed attempts`);
        this.failures = 0;
        this.state = 'live';
      }
    } finally {
      subscription.abort();
      stop.removeEventListener('abort', stopSubscription);
      wake('reader');
      await reader;
    }
  }

  // Up to maxBatch events, and any position markers among them (markers alone make a batch too).
  private takeBatch(queue: Item[]): Item[] {
    let events = 0;
    let count = 0;
    while (count < queue.length && (queue[count]!.outgoing === undefined || events < this.options.maxBatch)) {
      if (queue[count]!.outgoing) events += 1;
      count += 1;
    }
    return queue.splice(0, count);
  }

  /** The first dead letter of each opportunity that has one on this sink: opportunity id → its position. */
  private deadLetteredOpportunities(): Map<string, number> {
    const first = new Map<string, number>();
    for (const letter of this.relayState.deadLetters(this.key)) if (!first.has(letter.subject)) first.set(letter.subject, letter.position);
    return first;
  }

  /**
   * Publishes a batch's events, but none of an opportunity with a dead letter on this sink: those
   * are dead-lettered behind it unsent. A subscriber applies an opportunity's events in revision
   * order and ignores one older than it has (as the README tells it), so a later event delivered
   * past a dead letter would make it ignore the dead letter when a replay brings it. Held back,
   * the replay from the first dead letter delivers them all in order. (Only webhooks dead-letter,
   * and the webhook sink holds back the same way inside the batch it is given.) A
   * dead letter no subscriber will ever take is discarded by an operator, and the replay from it
   * then sends what it held back, without it.
   */
  private async publish(batch: readonly Item[], heldBehind: Map<string, number>, discarded: ReadonlyMap<number, string>): Promise<DeadLetter[]> {
    const failedAt = () => new Date().toISOString();
    const held: DeadLetter[] = [];
    const events: OutgoingEvent[] = [];
    for (const item of batch) {
      // An operator gave up on it (`stagecraft relay discard`): a replay does not send it again.
      // That event only: after a restore or on another log, the position may hold another one.
      if (!item.outgoing || discarded.get(item.position) === item.outgoing.event.id) continue;
      const blocker = heldBehind.get(item.outgoing.event.subject);
      if (blocker === undefined) events.push(item.outgoing);
      else held.push(this.deadLetter(item.outgoing, 0, heldBackBehind(blocker), failedAt()));
    }
    for (const letter of held) this.options.log('error', `Relay to ${this.key}: event ${letter.eventId} (position ${letter.position}) dead-lettered: ${letter.lastError}`);
    if (events.length === 0) return held;
    const stop = this.stopController.signal;
    for (let attempt = 0; ; attempt += 1) {
      if (stop.aborted) throw new Stopped();
      try {
        const { undeliverable } = await this.sink.publish(events, { signal: stop, onAttemptFailed: (message) => this.failed(message) });
        this.published += events.length;
        // Sent again (an event taken, not only dead-lettered): what the state file says is past.
        if (undeliverable.length < events.length) this.clearSavedError();
        const at = failedAt();
        for (const letter of undeliverable) this.options.log('error', `Relay to ${this.key}: event ${letter.event.event.id} (position ${letter.event.position}) dead-lettered after ${letter.attempts} attempts: ${letter.lastError}`);
        const letters = undeliverable.map((letter) => this.deadLetter(letter.event, letter.attempts, letter.lastError, at));
        for (const letter of letters) if (!heldBehind.has(letter.subject)) heldBehind.set(letter.subject, letter.position);
        return [...held, ...letters].sort((a, b) => a.position - b.position);
      } catch (error) {
        if (stop.aborted) throw new Stopped();
        this.failed(describeError(error));
        await this.backoff(attempt);
      }
    }
  }

  private deadLetter(outgoing: OutgoingEvent, attempts: number, lastError: string, failedAt: string): DeadLetter {
    return {
      sink: this.key,
      position: outgoing.position,
      eventId: outgoing.event.id,
      type: outgoing.event.type,
      subject: outgoing.event.subject,
      attempts,
      lastError,
      failedAt,
      body: outgoing.body.toString('utf8'),
    };
  }

  private failed(message: string): void {
    if (this.failures === 0) this.options.log('warn', `Relay to ${this.key}: ${message}; retrying with backoff`);
    this.failures += 1;
    this.state = 'retrying';
    this.lastError = { message, at: new Date().toISOString() };
    this.saveError(message);
  }

  /**
   * Writes the error into the state file when it changed (since: its first failure with these
   * words), not at each retry. The state file failing to take it is no reason to stop: the
   * error is in lastError (/health) all the same, and a fault of the file says itself there.
   */
  private saveError(message: string): void {
    if (this.savedError?.message === message) return;
    const error = { message, at: new Date().toISOString() };
    // Taken as written even when the write fails: tried again at each retry, a file locked by
    // another process would hold this one up for its busy timeout every time.
    this.savedError = error;
    try {
      this.relayState.recordError(this.key, error);
    } catch {
      // Written at the next change of words, or cleared once the sink sends.
    }
  }

  private clearSavedError(): void {
    if (this.savedError === undefined) return;
    try {
      this.relayState.recordError(this.key, undefined);
      this.savedError = undefined;
    } catch {
      // Cleared at the next send.
    }
  }

  private replayRequested(generation: number): boolean {
    return (this.relayState.checkpoint(this.key)?.generation ?? generation) !== generation;
  }

  private async backoff(attempt: number): Promise<void> {
    const ceiling = Math.min(this.options.retryMaxMs, this.options.retryBaseMs * 2 ** Math.min(attempt, 30));
    // Half fixed, half random: relays restarted together do not retry in step.
    await sleep(ceiling / 2 + (Math.random() * ceiling) / 2, undefined, { signal: this.stopController.signal }).catch(() => {
      throw new Stopped();
    });
  }
}
