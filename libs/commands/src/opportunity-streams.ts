import { StreamTruncatedError, type EventStore, type StoredEvent, type StreamRevision } from '@stagecraft/event-store';
import { chainLinkBreak, effectiveHash, GENESIS_HASH, isHashless, strippedHashDetail, type ChainBreakReason } from '@stagecraft/audit';
import { evolve, toOpportunityStreamId, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import { attemptOf } from './command-key.claims';
import { StreamEventsCutError } from './command.errors';
import { LogChainStart } from './log-chain-start';
import { toOpportunityEvents } from './opportunity-stream.events';
import { RecordedCommands } from './recorded-commands';
import { NO_STREAM_SNAPSHOTS, type RecordedCommand, type StreamSnapshotStore } from './stream-snapshots/stream-snapshot.store';

export type { RecordedCommand } from './stream-snapshots/stream-snapshot.store';
export { RecordedCommands } from './recorded-commands';

/** An opportunity stream folded up to a revision. */
export interface LoadedOpportunity {
  readonly stream: string;
  readonly state: OpportunityState;
  readonly revision: StreamRevision;
  /** Global position of the last event folded; 0 when there is none. */
  readonly position: number;
  /** Hash of the last event folded (GENESIS_HASH when none): the next append chains from it. */
  readonly headHash: string;
  readonly commands: RecordedCommands;
  /** The revision of the snapshot `commands` rest on (those before it are in the snapshot store); absent after a full read. */
  readonly snapshotRevision?: number;
  /**
   * The first event folded that does not continue the hash chain (edited, moved or deleted outside
   * Stagecraft): reads still show the stream as stored, the executor decides nothing on it.
   */
  readonly chainBreak?: { readonly revision: number; readonly reason: ChainBreakReason; readonly detail: string };
  /** Whether an event folded carries a hash: an event without one after it had its hash stripped. */
  readonly chained?: boolean;
}

/** A snapshot is taken once a stream has this many events not yet covered by one. */
export const SNAPSHOT_EVERY_EVENTS = 50;

/**
 * Loads opportunity streams, keeping the most recently used ones folded in memory, and long ones
 * folded in a snapshot store too. Both are only a head start: every load still reads the store from
 * the fold's last event on (still there, or the fold is dropped), so events appended by another instance are never missed (the one
 * exception, cachedIfSoleWriter, leaves it to the caller's append to confirm), and an entry is
 * only ever a true prefix of its stream (built from reads or from appends this process saw
 * succeed). A snapshot is used only when the stored event at its revision carries its head hash,
 * so an edited log is read whole, never folded on top of a stale state.
 */
export class OpportunityStreams {
  private readonly cache = new Map<string, LoadedOpportunity>();
  /**
   * Folds whose last event was found cut from the log (StreamEventsCutError), kept out of the LRU
   * cache so that no eviction forgets them: every load compares the stream with them again, and is
   * refused until the events are back or the store was restored, or the process restarts.
   */
  private readonly cutFolds = new Map<string, LoadedOpportunity>();

  constructor(
    private readonly store: EventStore,
    /** How many streams stay folded in memory between commands. */
    private readonly cacheSize: number,
    private readonly snapshots: StreamSnapshotStore = NO_STREAM_SNAPSHOTS,
    /** Where the log's chains begin, asked when a stream holds events without a hash. */
    private readonly chainStart: LogChainStart = new LogChainStart(store),
  ) {}

  /**
   * The stream folded to its last revision as the store shows it. `fromLeader`: what came after the
   * fold is read from the store's leader, not from a replica that may lag behind it (EventStore.readsMayLag).
   */
  async load(opportunityId: string, options: { readonly fromLeader?: boolean } = {}): Promise<LoadedOpportunity> {
    const stream = toOpportunityStreamId(opportunityId);
    let known = this.cutFolds.get(stream) ?? this.cache.get(stream) ?? (await this.fromSnapshot(stream));
    // From the fold's own last event: the read shows it is still where the fold left it. A store
    // that lost it (a KurrentDB server back from an older backup) holds a shorter stream, which a
    // read of what came after cannot tell from one nobody wrote to since; deciding on the kept fold
    // would answer a retried command as recorded from events the log no longer holds.
    const fromRevision = known && known.revision !== 'no_stream' ? known.revision : 0;
    // A fold kept from before stands for revisions 0 to its own; a store may since have hidden a
    // prefix of them (KurrentDB: an operator's $tb or $maxCount, a soft delete), which the read of
    // what came after cannot show. The stream's first event is read alongside (no wait added), and
    // the answer is the one a process that never folded the stream gives: a stream showing no
    // event is folded from nothing (a soft-deleted one reads as never opened), one starting later
    // than revision 0 is refused. Deciding on the kept fold instead would decide on events the log
    // no longer holds, and after a soft delete the append would bring the stream back. That read
    // asks the leader: a lagging follower, not having the stream yet, would make a deal this
    // process just opened read as soft-deleted.
    const fromLeader = options.fromLeader === true ? { fromLeader: true } : {};
    const [read, start] = await Promise.all([this.store.readStream(stream, { fromRevision, ...fromLeader }), known ? this.store.readStream(stream, { maxCount: 1, fromLeader: true }) : undefined]);
    const empty: LoadedOpportunity = { stream, state: { status: 'none' }, revision: 'no_stream', position: 0, headHash: GENESIS_HASH, commands: RecordedCommands.NONE };
    if (start !== undefined && start[0]?.revision !== 0) {
      this.cache.delete(stream);
      if (start.length > 0) throw new StreamTruncatedError(stream, start[0]!.revision);
      // Every event gone: on SQLite (no soft delete there) that may be a cut as well, which an
      // OpenOpportunity with the same id would write over from revision 0.
      const cut = known && (await this.cutFrom(known, []));
      if (cut) {
        this.cutFolds.set(stream, known!);
        throw cut;
      }
      this.cutFolds.delete(stream);
      return empty;
    }
    let newer = read;
    if (known && known.revision !== 'no_stream') {
      const fold = known;
      const holdsFold = (events: readonly StoredEvent[]) => events[0]?.revision === fold.revision && events[0].position === fold.position;
      // A replica that lags may not show the fold's last event yet (this process's own append): the leader says.
      const there = holdsFold(read) || options.fromLeader === true || this.store.readsMayLag?.() !== true ? read : await this.store.readStream(stream, { fromRevision, fromLeader: true });
      if (holdsFold(there)) {
        newer = there.slice(1);
      } else {
        // Not the fold's event there (or none): the fold is of a log the store no longer holds; read whole.
        this.cache.delete(stream);
        known = undefined;
        newer = await this.store.readStream(stream, { fromRevision: 0, fromLeader: true });
        const cut = await this.cutFrom(fold, newer);
        if (cut) {
          this.cutFolds.set(stream, fold);
          throw cut;
        }
      }
      this.cutFolds.delete(stream);
    }
    const base = known ?? empty;
    if (newer.length === 0) {
      if (known) this.remember(known);
      return base;
    }
    const loaded = this.remember(await this.withStrippedHashes(extend(base, newer), newer));
    this.snapshotIfLong(loaded, known);
    return loaded;
  }

  /**
   * Whether the fold's last event, gone from the stream, was deleted from a log that goes on (an
   * edit by hand), rather than lost with the log's tail (a store restored from an older backup,
   * which the read whole is for). Only a store that keeps the highest position it numbered
   * (SQLite) can tell: a delete does not lower it, a restore does. The fold's position holding
   * another event also means another log (a backup restored and written on since), not a cut.
   * KurrentDB cannot delete single events, and keeps no such number: its streams are read whole.
   */
  private async cutFrom(fold: Pick<LoadedOpportunity, 'stream' | 'revision' | 'position'>, stored: readonly StoredEvent[]): Promise<StreamEventsCutError | undefined> {
    const { revision } = fold;
    if (revision === 'no_stream') return undefined;
    const numbered = await this.store.highestPositionNumbered?.();
    if (numbered === undefined || numbered < fold.position) return undefined;
    const [at] = await this.store.readAll({ fromPosition: fold.position, maxCount: 1, fromLeader: true });
    if (at?.position === fold.position) return undefined;
    // Events at the fold's revisions, up to its position, are the ones it read; one written later
    // at such a revision (another process, into the gap) does not stand for what was cut.
    const kept = stored.findIndex((event) => event.revision > revision || event.position > fold.position);
    const from = kept === -1 ? stored.length : kept;
    return new StreamEventsCutError(fold.stream, { from, to: revision }, fold.position);
  }

  /**
   * As load, for a reader that answers "not found" on a stream showing no event: on a store whose
   * reads may lag behind its leader (EventStore.readsMayLag) such a stream is read again from the
   * leader, so a deal opened through another instance is not denied for a follower's lag.
   */
  async loadExisting(opportunityId: string): Promise<LoadedOpportunity> {
    const loaded = await this.load(opportunityId);
    if (loaded.revision !== 'no_stream' || this.store.readsMayLag?.() !== true) return loaded;
    return this.load(opportunityId, { fromLeader: true });
  }

  /**
   * The stream as this process last folded it, without reading the store, while the store says it
   * is the only writer (EventStore.isSoleWriter); otherwise undefined (load it). The fold came from
   * this process's reads and appends, so it is current unless a writer the store has not yet
   * noticed appended meanwhile: the caller must let an append's expected revision confirm it
   * before concluding anything from it (the executor does).
   */
  cachedIfSoleWriter(opportunityId: string): LoadedOpportunity | undefined {
    if (this.store.isSoleWriter?.() !== true) return undefined;
    const known = this.cache.get(toOpportunityStreamId(opportunityId));
    return known && this.remember(known);
  }

  /**
   * The fold, broken at the first of the events just read that carries no hash although the log
   * was chained before it: not written before tamper evidence, but stripped (a stream rewritten
   * without its hashes, which its own chain cannot show). Deciding on it would chain the forgery
   * on, and the stream would then verify as vouched for.
   */
  private async withStrippedHashes(loaded: LoadedOpportunity, read: readonly StoredEvent[]): Promise<LoadedOpportunity> {
    // Only before a break found already: the first break is the one named, as verify names it.
    const before = loaded.chainBreak?.revision ?? Number.POSITIVE_INFINITY;
    const hashless = read.filter((event) => event.revision < before && isHashless(event));
    if (hashless.length === 0) return loaded;
    const chainedSince = await this.chainStart.chainedBefore(hashless[hashless.length - 1]!.position);
    const stripped = chainedSince === undefined ? undefined : hashless.find((event) => event.position > chainedSince);
    if (stripped === undefined) return loaded;
    return { ...loaded, chainBreak: { revision: stripped.revision, reason: 'missing-hash', detail: strippedHashDetail(stripped.position, chainedSince!) } };
  }

  /** The snapshot of a stream, if there is one and the stored event at its revision still carries its hash. */
  private async fromSnapshot(stream: string): Promise<LoadedOpportunity | undefined> {
    const snapshot = this.snapshots.load(stream);
    if (!snapshot) return undefined;
    // This process took the snapshot from events the store holds: asked of a lagging follower, it
    // would be thrown away for an event the follower does not have yet.
    const [there] = await this.store.readStream(stream, { fromRevision: snapshot.revision, maxCount: 1, fromLeader: true });
    const before = snapshot.revision === 0 ? GENESIS_HASH : undefined;
    const matches = there !== undefined && there.revision === snapshot.revision && (typeof there.metadata.hash === 'string' ? there.metadata.hash === snapshot.headHash : before !== undefined && effectiveHash(before, there) === snapshot.headHash);
    if (!matches && (there === undefined || there.revision !== snapshot.revision)) {
      // The snapshot's event gone: cut by hand (kept, so that every load, after a restart too, is
      // refused until the events are back), or lost with a restore (read whole, as below).
      const cut = await this.cutFrom(snapshot, await this.store.readStream(stream, { fromRevision: 0, fromLeader: true }));
      if (cut) throw cut;
    }
    if (!matches) {
      this.snapshots.discard(stream);
      return undefined;
    }
    return {
      stream,
      state: snapshot.state,
      revision: snapshot.revision,
      position: snapshot.position,
      headHash: snapshot.headHash,
      commands: RecordedCommands.before(snapshot.commandBefore),
      snapshotRevision: snapshot.revision,
      chained: !isHashless(there),
    };
  }

  private snapshotIfLong(loaded: LoadedOpportunity, from: LoadedOpportunity | undefined): void {
    // A snapshot keeps no break: one taken past it would hide the break from the next load.
    if (loaded.revision === 'no_stream' || loaded.chainBreak) return;
    const covered = from && from.revision !== 'no_stream' ? from.revision + 1 : 0;
    if (loaded.revision + 1 - covered < SNAPSHOT_EVERY_EVENTS) return;
    this.snapshots.save({
      stream: loaded.stream,
      revision: loaded.revision,
      position: loaded.position,
      headHash: loaded.headHash,
      state: loaded.state,
      ...(loaded.snapshotRevision !== undefined ? { basedOn: loaded.snapshotRevision } : {}),
      newCommands: loaded.commands.sinceSnapshot(),
    });
  }

  /** Records an append this process made, so the next load needs no re-read of those events. */
  appended(before: LoadedOpportunity, events: readonly OpportunityEvent[], result: { nextRevision: number; position: number }, headHash: string): LoadedOpportunity {
    let state = before.state;
    for (const event of events) state = evolve(state, event);
    // Appends are chained: an event without a hash after them was stripped.
    return this.remember({ ...before, state, revision: result.nextRevision, position: result.position, headHash, chained: true });
  }

  /** Drops what is known of a stream; the next load reads it whole. */
  forget(opportunityId: string): void {
    this.cache.delete(toOpportunityStreamId(opportunityId));
  }

  /** Drops a stream's snapshot (found damaged) as well: the next load reads it whole from the store. */
  dropSnapshot(opportunityId: string): void {
    this.forget(opportunityId);
    this.snapshots.discard(toOpportunityStreamId(opportunityId));
  }

  private remember(loaded: LoadedOpportunity): LoadedOpportunity {
    // Map order is insertion order: re-inserting marks it most recently used.
    this.cache.delete(loaded.stream);
    this.cache.set(loaded.stream, loaded);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    return loaded;
  }
}

function extend(loaded: LoadedOpportunity, stored: readonly StoredEvent[]): LoadedOpportunity {
  // The events must follow on from the fold: a read that starts later (a stream truncated, or
  // soft-deleted and written again) is refused, not folded from the middle of its history.
  const next = loaded.revision === 'no_stream' ? 0 : loaded.revision + 1;
  if (stored[0]!.revision !== next) throw new StreamTruncatedError(loaded.stream, stored[0]!.revision);
  const events = toOpportunityEvents(stored);
  let state = loaded.state;
  let headHash = loaded.headHash;
  let { chainBreak, chained = false } = loaded;
  let expectedRevision = next;
  const folded: [string, RecordedCommand][] = [];
  stored.forEach((event, index) => {
    // One SHA-256 per event, once: a cached or snapshotted fold is not checked again.
    const hashless = isHashless(event);
    if (!chainBreak) {
      const broken = chainLinkBreak(headHash, expectedRevision, event);
      if (broken) chainBreak = { revision: event.revision, ...broken };
      // The link check leaves events without a hash alone (written before tamper evidence); after a hashed one, its hash was stripped.
      else if (hashless && chained) chainBreak = { revision: event.revision, reason: 'missing-hash', detail: 'the event carries no hash although earlier events of the stream do' };
    }
    if (!hashless) chained = true;
    expectedRevision = event.revision + 1;
    state = evolve(state, events[index]!);
    // Events written before tamper evidence carry no hash: the chain goes on from their computed one.
    headHash = effectiveHash(headHash, event);
    const { commandId, commandFingerprint } = event.metadata;
    if (typeof commandId === 'string' && typeof commandFingerprint === 'string' && state.status !== 'none') {
      const attempt = attemptOf(event.metadata);
      folded.push([commandId, { fingerprint: commandFingerprint, attempt, revision: event.revision, position: event.position, stage: state.stage, status: state.status }]);
    }
  });
  const last = stored[stored.length - 1]!;
  return { ...loaded, state, revision: last.revision, position: last.position, headHash, commands: loaded.commands.with(folded), chained, ...(chainBreak ? { chainBreak } : {}) };
}
