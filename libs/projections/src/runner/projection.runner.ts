import { anchorOf, EventStoreAccessDeniedError, EventStoreFileError, EventStoreUnavailableError, filteredReadingLost, firstEventId, NO_ANCHOR, readAllPages, READ_REFUSED_ADVICE, type EventStore, type LogAnchor, type StoredEvent } from '@stagecraft/event-store';
import { applyEvent, type Projection, type ReadModelKey } from '../projection.types';
import { SnapshotFormatError } from './model-serialization';
import type { ProjectionSnapshotStore } from './projection-snapshot.store';
import type { ProjectionStatus, ReadModels } from './read-models.port';
import { PositionWaiters } from './position-waiters';
import { recoveryPause } from './recovery-pause';

const DEFAULT_SNAPSHOT_EVERY_MS = 5_000;

export interface ProjectionRunnerOptions {
  /** Save a snapshot after this many events since the last one (and when caught up, and on stop); see saveSpacing. */
  readonly snapshotEveryEvents?: number;
  /** …or after this many milliseconds with unsaved events. */
  readonly snapshotEveryMs?: number;
  /** While replaying up to the head, save at most this often (a save serialises every model). */
  readonly replaySaveIntervalMs?: number;
  /**
   * A live save starts no sooner after the last one than this many times what the last one took
   * (reading the models, then writing them): the share of time saving may take is 1 / (1 + this).
   * Default 10, for a process that answers requests; a projector, which only folds and saves, may
   * save back to back (1).
   */
  readonly saveSpacing?: number;
  /** Where the models are saved (a path and its setting), named when they cannot be (cannotSave). */
  readonly savedIn?: string;
  /** Page size of a rebuild's reads. */
  readonly rebuildPageSize?: number;
  /** Told every replayProgressEveryEvents events while replaying up to the head (for progress bars). */
  readonly onReplayProgress?: (progress: { position: number; head: number }) => void;
  /** Events between two onReplayProgress calls (default 10,000). */
  readonly replayProgressEveryEvents?: number;
}


interface Running {
  readonly projection: Projection<unknown>;
  model: unknown;
  position: number;
  /** The last event folded in (at or before position), saved with the snapshot and read back at start. */
  anchor: LogAnchor;
  rebuilding: boolean;
  failed?: string;
}

/**
 * Feeds the global log to the projections: starts from the saved snapshots, replays what came
 * after them, then follows live appends. Models live in memory (queries read them directly) and
 * are saved with their checkpoints in one transaction every so often, so a restart resumes exactly
 * where the last save left off.
 */
export class ProjectionRunner implements ReadModels {
  private readonly running = new Map<string, Running>();
  private readonly controller = new AbortController();
  private readonly waiters = new PositionWaiters();
  private loop?: Promise<void>;
  private unsaved = 0;
  /** Events folded while replaying since onReplayProgress was last told. */
  private replayedSinceProgress = 0;
  private saveTimer?: NodeJS.Timeout;
  /** The saves under way, one at a time; a save asked for meanwhile runs after it. */
  private saving?: Promise<void>;
  private saveWanted = false;
  /** Save even with no event since the last save (a rebuilt model replaced the saved one). */
  private saveForced = false;
  /** While a save reads the models, no event is folded in: it settles when they may change again. */
  private holding?: Promise<void>;
  private logId = '';
  private lastSave = Date.now();
  /**
   * Least time between two live saves (options.saveSpacing times what the last one took), so that
   * saving (holding events back while the models are read, then the snapshot thread's write) keeps
   * to its share of the time however large the models grow. Replay has its own spacing
   * (replaySaveIntervalMs); explicit saves (caught up, stop, rebuild) do not wait.
   */
  private saveSpacingMs = 0;
  private head = 0;
  private caughtUp = false;
  /** Projections stopped only because the store could not be reached: they go on once it answers. */
  private readonly waitingForStore = new Set<Running>();
  /** The last save's failure, until a save succeeds: the models serve on, but are not kept. */
  private saveFailure?: { readonly since: string; readonly reason: string };

  /** Told when a projection stops on an event it cannot fold in (for the logs). */
  onFailure?: (name: string, reason: string) => void;

  /**
   * Told when saves start failing (for the logs), once until one succeeds again (cannotSave says
   * so meanwhile): the models keep working, and a restart replays more of the log.
   */
  onSaveFailure?: (error: Error) => void;

  constructor(
    private readonly store: EventStore,
    private readonly snapshots: ProjectionSnapshotStore,
    projections: readonly Projection<unknown>[],
    private readonly options: ProjectionRunnerOptions = {},
  ) {
    for (const projection of projections) {
      this.running.set(projection.name, { projection, model: projection.initial(), position: 0, anchor: NO_ANCHOR, rebuilding: false });
    }
  }

  /** Told when saved snapshots are set aside because they belong to another log (for the logs). */
  onDiscardedSnapshot?: (name: string, reason: string) => void;

  /** Starts following the log; resolves once the replay has reached the head. */
  async start(): Promise<void> {
    if (this.loop) throw new Error('The projection runner is already started');
    await this.restoreSnapshots();
    const from = Math.min(...[...this.running.values()].map((entry) => entry.position));
    let markCaughtUp!: () => void;
    const caughtUp = new Promise<void>((resolve) => (markCaughtUp = resolve));
    this.loop = this.followThroughOutages(from, markCaughtUp);
    this.loop.catch((error: Error) => {
      // The log cannot be followed any more (the store failed): every model is now stale, say so.
      if (!this.controller.signal.aborted) {
        // Said as a model stopped on an event is: the server log named no stop, only the answers did.
        // One waiting for the store stops too: its reason said it would follow again by itself.
        for (const entry of this.running.values()) {
          if (entry.failed !== undefined && !this.waitingForStore.has(entry)) continue; // stopped on an event of its own
          entry.failed = `the event log could not be followed: ${error.message}`;
          this.onFailure?.(entry.projection.name, entry.failed);
        }
        this.waitingForStore.clear();
        // Saved with the models, so that API instances serving them (PROJECTIONS=external) say the
        // stop too, instead of serving their last figures as if the log had not moved; a stop can
        // come before any event was folded (the first page read holds the unreadable event).
        void this.save({ force: true });
      }
      markCaughtUp();
    });
    await caughtUp;
  }

  async stop(): Promise<void> {
    clearTimeout(this.saveTimer);
    this.controller.abort();
    await this.loop?.catch(() => undefined);
    await this.save();
    this.waiters.releaseAll();
  }

  /** The model of one projection, as of `position()`. */
  model<Model>({ name }: ReadModelKey<Model>): Model {
    const entry = this.running.get(name);
    if (!entry) throw new Error(`No projection "${name}"`);
    return entry.model as Model;
  }

  names(): string[] {
    return [...this.running.keys()];
  }

  /** The log position every working projection has folded in. */
  position(): number {
    const working = [...this.running.values()].filter((entry) => entry.failed === undefined);
    return working.length === 0 ? 0 : Math.min(...working.map((entry) => entry.position));
  }

  /** Why a projection stopped, or undefined while it works. */
  failure(name: string): string | undefined {
    return this.running.get(name)?.failed;
  }

  isCaughtUp(): boolean {
    return this.caughtUp;
  }

  status(): ProjectionStatus[] {
    return [...this.running.values()].map((entry) => ({
      name: entry.projection.name,
      checkpoint: entry.position,
      lag: Math.max(0, this.head - entry.position),
      rebuilding: entry.rebuilding,
      ...(entry.failed !== undefined ? { failed: entry.failed, ...(this.waitingForStore.has(entry) ? { recovering: true as const } : {}) } : {}),
    }));
  }

  /** Why the models could not be saved lately, until a save succeeds again (see ReadModels). */
  cannotSave(): string | undefined {
    const failure = this.saveFailure;
    return failure && `the read models could not be saved${this.options.savedIn !== undefined ? ` in ${this.options.savedIn}` : ''} since ${failure.since} (${failure.reason}): they keep serving from memory, but a restart replays the log from the last save; saving is tried again every few seconds`;
  }

  /** Resolves true once every projection has folded in `position`, false after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<boolean> {
    if (this.position() >= position) return Promise.resolve(true);
    return this.waiters.wait(position, timeoutMs);
  }

  /**
   * Rebuilds one projection from position 0 while the current model keeps serving; the new model
   * replaces it only once it has caught up with the live one, in the same turn, so no query ever
   * sees a half-built model.
   */
  async rebuild(name: string, onProgress?: (progress: { position: number; head: number }) => void): Promise<void> {
    const entry = this.running.get(name);
    if (!entry) throw new Error(`No projection "${name}"`);
    if (entry.rebuilding) throw new Error(`Projection "${name}" is already being rebuilt`);
    entry.rebuilding = true;
    try {
      const { projection } = entry;
      let model = projection.initial();
      let position = 0;
      let anchor = NO_ANCHOR;
      const pageSize = this.options.rebuildPageSize ?? 5_000;
      // The live model keeps moving while this runs; chase it until the rebuilt one has folded
      // in everything the live one has, then swap in the same turn.
      // A failed projection froze at its failure; its rebuild chases the live log instead.
      const target = () => (entry.failed !== undefined ? this.head : entry.position);
      for await (const page of readAllPages(this.store, { pageSize })) {
        for (const event of page) {
          if (event.position > target()) break;
          model = applyEvent(projection, model, event);
          position = event.position;
          anchor = anchorOf(event);
        }
        onProgress?.({ position, head: this.head });
        if (page[page.length - 1]!.position >= target()) break;
        await new Promise((resolve) => setImmediate(resolve)); // let commands and queries run
      }
      // The live model may stand at a checkpoint past the last event (the store had looked that
      // far and found nothing for it): the rebuilt one is then just as current.
      position = Math.max(position, target());
      entry.model = model;
      entry.position = position;
      if (entry.anchor.position > anchor.position) anchor = entry.anchor; // an event the live model saw (a type the subscription delivered) after the pages ended
      entry.anchor = anchor;
      entry.failed = undefined;
      await this.save({ force: true });
    } finally {
      entry.rebuilding = false;
    }
  }

  // A snapshot is used only if it was built from this very log, does not claim events the log
  // does not have, and its last event is still where it was; otherwise (the store was replaced or
  // restored from an older backup, and maybe written on since) that projection starts again from
  // zero rather than mixing two histories.
  private async restoreSnapshots(): Promise<void> {
    this.logId = await firstEventId(this.store);
    const head = await this.store.headPosition();
    const anchorsHeld = new Map<string, string | undefined>();
    for (const entry of this.running.values()) {
      let saved;
      try {
        saved = await this.snapshots.load(entry.projection.name);
      } catch (error) {
        if (!(error instanceof SnapshotFormatError)) throw error;
        this.onDiscardedSnapshot?.(entry.projection.name, `its model could not be read (${error.message})`);
        continue;
      }
      if (!saved) continue;
      if (saved.logId !== this.logId || saved.position > head) {
        this.onDiscardedSnapshot?.(entry.projection.name, saved.logId !== this.logId ? 'it was built from another event log' : `it is at position ${saved.position}, past the log's head ${head}`);
        continue;
      }
      const anchor = saved.anchor ?? NO_ANCHOR;
      // The runner anchors the last event its subscription delivered (a type some model takes); a
      // model's own fold changes only with the types it handles, so those are what the events
      // between its anchor and its checkpoint must not hold (a model added since, with types of its
      // own, then costs the others no rebuild).
      const eventTypes = [...entry.projection.handles].sort();
      const key = `${anchor.position}:${anchor.eventId}:${saved.position}:${eventTypes.join(',')}`;
      if (!anchorsHeld.has(key)) anchorsHeld.set(key, await filteredReadingLost(this.store, anchor, { checkpoint: saved.position, eventTypes }));
      const lost = anchorsHeld.get(key);
      if (lost !== undefined) {
        this.onDiscardedSnapshot?.(entry.projection.name, lost);
        continue;
      }
      if (entry.projection.accepts && !entry.projection.accepts(saved.model)) {
        this.onDiscardedSnapshot?.(entry.projection.name, 'its model was saved by a version of Stagecraft with other columns');
        continue;
      }
      entry.model = saved.model;
      entry.position = saved.position;
      entry.anchor = anchor;
    }
  }

  /**
   * While running: whether the store now holds another log than the one the models were folded
   * from (another first event, a head before their checkpoints, or their last event no longer
   * where it was — restoreSnapshots' tests). If so, every model starts again from position 0 on it
   * (the others' checkpoints are of the old log too), saying why through onDiscardedSnapshot.
   */
  private async startOverOnAnotherLog(): Promise<boolean> {
    const logId = await firstEventId(this.store);
    const head = await this.store.headPosition();
    let why: string | undefined;
    if (this.logId !== '' && logId !== this.logId) why = 'it was built from another event log';
    for (const entry of this.running.values()) {
      if (why !== undefined) break;
      if (entry.position > head) why = `it is at position ${entry.position}, past the log's head ${head}`;
      else why = await filteredReadingLost(this.store, entry.anchor, { checkpoint: entry.position, eventTypes: [...entry.projection.handles].sort() });
    }
    if (why === undefined) return false;
    this.logId = logId;
    this.head = head;
    for (const entry of this.running.values()) {
      this.onDiscardedSnapshot?.(entry.projection.name, why);
      entry.model = entry.projection.initial();
      entry.position = 0;
      entry.anchor = NO_ANCHOR;
      entry.failed = undefined;
    }
    this.waitingForStore.clear();
    return true;
  }

  /**
   * Follows the log; when the store cannot be reached for longer than its subscription keeps
   * trying (a node restart, an election, a network cut), the models say why they are stale and the
   * log is followed again from their checkpoints after a pause that doubles from 0.5 s to 30 s, as
   * the PostgreSQL projector and the relay do; so too when the server refuses the user (naming
   * EVENT_STORE_URL). A store that came back as another log is followed from its beginning. Any
   * other failure ends the loop.
   */
  private async followThroughOutages(from: number, markCaughtUp: () => void): Promise<void> {
    const signal = this.controller.signal;
    // Gone for that long, the store may come back as another log (a server started again empty,
    // or restored from an older backup and written on since) whose positions reach past the
    // checkpoints: checked before following again, as at start (a check the store does not
    // answer is one more failed attempt).
    let verifyLog = false;
    for (let attempt = 0; ; attempt += 1) {
      try {
        if (verifyLog && (await this.startOverOnAnotherLog())) from = 0;
        verifyLog = false;
        await this.follow(from, markCaughtUp, () => {
          attempt = 0;
          for (const entry of this.waitingForStore) entry.failed = undefined;
          this.waitingForStore.clear();
        });
        return;
      } catch (error) {
        if (signal.aborted) throw error;
        if (!(error instanceof EventStoreUnavailableError) && !(error instanceof EventStoreAccessDeniedError)) {
          // The store answers but will not follow from the checkpoint (KurrentDB refuses a position
          // no record of its log starts at): it came back as another log, so start over on it.
          // Otherwise the failure is the store's own, and the models stop on it as before.
          if (!(await this.startOverOnAnotherLog().catch(() => false))) throw error;
          from = 0;
          continue;
        }
        // A damaged file does not heal as a server that comes back does: tried again all the same (it may be restored in place).
        // A server refusing the user (a password rotated, an ACL changed) is waited out the same way:
        // the models keep their checkpoints and go on once the operator has corrected it.
        const reason = `the event log could not be followed: ${error.message}; ${followAgainWhen(error)}`;
        for (const entry of this.running.values()) {
          if (entry.failed !== undefined && !this.waitingForStore.has(entry)) continue; // stopped on an event of its own
          if (!this.waitingForStore.has(entry)) this.onFailure?.(entry.projection.name, reason);
          entry.failed = reason;
          this.waitingForStore.add(entry);
        }
        markCaughtUp();
        await recoveryPause(attempt, signal);
        if (signal.aborted) return;
        verifyLog = true;
        const resumed = this.waitingForStore.size > 0 ? [...this.waitingForStore] : [...this.running.values()];
        from = Math.min(...resumed.map((entry) => entry.position));
      }
    }
  }

  private async follow(from: number, markCaughtUp: () => void, onAnswer: () => void = () => undefined): Promise<void> {
    this.head = await this.store.headPosition();
    // Followed again only once the subscription delivers: a head that answers while the log still
    // cannot be read (a damaged page, a subscription refused) neither clears the failures nor
    // resets the pause, which would retry every 0.5 s and flap the health between up and down.
    let answered = false;
    for await (const message of this.store.subscribeToAll({ fromPosition: from, eventTypes: this.eventTypes(), signal: this.controller.signal })) {
      if (!answered) {
        answered = true;
        onAnswer();
      }
      if (this.holding) await this.holding;
      if (message.type === 'event') {
        this.apply(message.event);
        continue;
      }
      this.passed(message.position);
      if (message.type === 'caughtUp') {
        this.caughtUp = true;
        void this.save();
        markCaughtUp();
      }
    }
  }

  // The store looked at the log up to here and had nothing more for the projections: they are
  // as current as that position, and a reader waiting for a filtered-out event is answered.
  private passed(position: number): void {
    this.head = Math.max(this.head, position);
    for (const entry of this.running.values()) {
      if (entry.failed === undefined && entry.position < position) entry.position = position;
    }
    this.wakeWaiters();
  }

  private wakeWaiters(): void {
    this.waiters.reached(this.position());
  }

  /** The event types the models take in: the subscription delivers only these. */
  private eventTypes(): string[] {
    return [...new Set([...this.running.values()].flatMap((entry) => [...entry.projection.handles]))];
  }

  private apply(event: StoredEvent): void {
    if (this.logId === '') this.logId = event.id; // the log was empty at start: this is its first event
    this.head = Math.max(this.head, event.position);
    for (const entry of this.running.values()) {
      if (entry.position >= event.position || entry.failed !== undefined) continue; // already folded in, or stopped
      try {
        entry.model = applyEvent(entry.projection, entry.model, event);
        entry.position = event.position;
        entry.anchor = anchorOf(event);
      } catch (error) {
        // One bad event stops that projection only, visibly; the others and the API go on.
        entry.failed = `event at position ${event.position} (${event.type}) could not be folded in: ${(error as Error).message}`;
        this.onFailure?.(entry.projection.name, entry.failed);
      }
    }
    this.unsaved += 1;
    const { snapshotEveryEvents = 10_000, snapshotEveryMs = DEFAULT_SNAPSHOT_EVERY_MS, replaySaveIntervalMs = 10_000, onReplayProgress, replayProgressEveryEvents = 10_000 } = this.options;
    // Counted in events: a position is no event number (KurrentDB's are byte offsets).
    if (!this.caughtUp && onReplayProgress && ++this.replayedSinceProgress >= replayProgressEveryEvents) {
      this.replayedSinceProgress = 0;
      onReplayProgress({ position: event.position, head: this.head });
    }
    const sinceLastSave = Date.now() - this.lastSave;
    if (this.caughtUp) {
      if ((this.unsaved >= snapshotEveryEvents || sinceLastSave >= snapshotEveryMs) && sinceLastSave >= this.saveSpacingMs) void this.save();
      else this.scheduleSave(Math.max(snapshotEveryMs, this.saveSpacingMs));
    } else if (this.unsaved >= snapshotEveryEvents && sinceLastSave >= replaySaveIntervalMs) {
      // While replaying, a save (serialising every model) would cost more than the events it
      // protects; save now and then so a crash mid-replay does not start from zero.
      void this.save();
    }
    this.wakeWaiters();
  }

  // Live events that trickle in are saved within snapshotEveryMs even if no further event comes.
  private scheduleSave(everyMs: number): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.save();
    }, Math.max(0, this.lastSave + everyMs - Date.now()));
    this.saveTimer.unref();
  }

  /**
   * Saves every model with its checkpoint, unless nothing changed since the last save. Resolves
   * once written, or once the save under way and the one after it are. Never rejects: a failed
   * save is reported and the next one tries again.
   */
  private save(options: { force?: boolean } = {}): Promise<void> {
    this.saveWanted = true;
    this.saveForced ||= options.force === true;
    this.saving ??= this.runSaves().finally(() => (this.saving = undefined));
    return this.saving;
  }

  private async runSaves(): Promise<void> {
    while (this.saveWanted) {
      this.saveWanted = false;
      if ((this.unsaved === 0 && !this.saveForced) || this.logId === '') continue; // nothing new, or nothing read yet
      this.saveForced = false;
      const entries = [...this.running.values()];
      const snapshots = entries.map((entry) => ({
        name: entry.projection.name,
        position: entry.position,
        model: entry.model,
        logId: this.logId,
        anchor: entry.anchor,
        // Waiting for the store is no stop: the model is good at its position, and an API serving
        // these snapshots must not tell its callers to rebuild it.
        ...(entry.failed !== undefined && !this.waitingForStore.has(entry) ? { failed: entry.failed } : {}),
      }));
      const unsaved = this.unsaved;
      this.unsaved = 0;
      this.lastSave = Date.now();
      const { serialized, written } = this.snapshots.save(snapshots);
      const started = performance.now();
      const spacing = this.options.saveSpacing ?? 10;
      void written.then(() => (this.saveSpacingMs = spacing * (performance.now() - started)), () => undefined);
      // The models are read a slice at a time, with the event loop running between slices:
      // queries go on, but no event is folded in until they have been read whole.
      const holding = serialized.then(
        () => undefined,
        () => undefined,
      );
      this.holding = holding;
      void holding.then(() => {
        if (this.holding === holding) this.holding = undefined;
      });
      try {
        await Promise.all([serialized, written]);
        this.saveFailure = undefined;
      } catch (error) {
        this.unsaved += unsaved;
        // Told once per outage (the retries below would log the same every few seconds).
        if (!this.saveFailure) this.onSaveFailure?.(error as Error);
        this.saveFailure ??= { since: new Date().toISOString(), reason: (error as Error).message };
        // Tried again even if no event comes: once the disk has room, the failure clears without one.
        this.saveForced = true;
        if (!this.controller.signal.aborted) this.scheduleSave(this.options.snapshotEveryMs ?? DEFAULT_SNAPSHOT_EVERY_MS);
      }
    }
  }
}

/** What ends a wait for the store, said after why the log could not be followed. */
function followAgainWhen(error: EventStoreUnavailableError | EventStoreAccessDeniedError): string {
  if (error instanceof EventStoreAccessDeniedError) return `${READ_REFUSED_ADVICE}; following again once it does`;
  if (error instanceof EventStoreFileError) return 'trying again now and then, but a damaged file does not heal: restore it from a backup';
  return 'following again once it answers';
}
