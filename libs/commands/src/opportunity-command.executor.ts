import { chainNewEvents } from '@stagecraft/audit';
import { DuplicateEventIdError, WrongExpectedRevisionError, type EventStore, type NewEvent } from '@stagecraft/event-store';
import { canonicalOpportunityId, decide, firstEventDifference, fromOpportunityStreamId, noChangeRecorded, rejections, type OpenedOpportunityState, type OpenOpportunity, type OpportunityCommand, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import { canonicalJson } from '@stagecraft/sales-process';
import { hash, randomUUID } from 'node:crypto';
import type { CommandEnvelope, CommandOutcome } from './command-envelope';
import { ConcurrentModificationError, IdempotencyKeyReusedError, OpportunityRejectedError, RecordedEventsDifferError, StreamChainBrokenError } from './command.errors';
import { claimOpeningKey } from './command-key.claims';
import { eventIdFor } from './opportunity-stream.events';
import type { LoadedOpportunity, OpportunityStreams } from './opportunity-streams';
import type { ProcessRegistry } from './process-registry';
import { assertCommandWithinTeams, hiddenFromCommand, isUnreadableStream, readWithinTeams } from './team-access';
import { DamagedStreamSnapshotError } from './stream-snapshots/stream-snapshot.store';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A domain command as the edge builds it; the executor adds the server time. */
export type OpportunityCommandBody = DistributiveOmit<OpportunityCommand, 'now'>;

export interface CommandExecutorOptions {
  /** How often a command is retried after a conflict the client did not ask to see. */
  readonly conflictRetries: number;
}

/**
 * The one command path: read the stream → fold → decide → append with the expected revision.
 * Conflicts the client did not ask about are retried here; those it did ask about are its own.
 * The API, the CLI's import and the bulk migration all send their commands through it.
 */
export class OpportunityCommandExecutor {
  constructor(
    private readonly store: EventStore,
    private readonly streams: OpportunityStreams,
    private readonly processes: ProcessRegistry,
    private readonly options: CommandExecutorOptions,
  ) {}

  /**
   * The commands of one opportunity waiting in this process, in the order they came: the last one's
   * promise per stream. Run side by side, they only conflict with each other (one append per commit
   * wins, the others read, decide and append again), so at a few dozen at once most used up their
   * retries and answered 409 CONCURRENT_MODIFICATION while the stream took ~20 commands a second.
   * One at a time, each decides on the state the one before it left and lands; conflicts are then
   * only with other writers (another instance, the CLI), which the retries below are for.
   */
  private readonly lanes = new Map<string, Promise<unknown>>();

  async execute(given: OpportunityCommandBody, envelope: CommandEnvelope): Promise<CommandOutcome> {
    const lane = canonicalOpportunityId(given.opportunityId);
    const before = this.lanes.get(lane);
    const run = before === undefined ? this.executeNow(given, envelope) : before.then(() => this.executeNow(given, envelope));
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.lanes.set(lane, settled);
    void settled.then(() => {
      if (this.lanes.get(lane) === settled) this.lanes.delete(lane);
    });
    return run;
  }

  private async executeNow(given: OpportunityCommandBody, envelope: CommandEnvelope): Promise<CommandOutcome> {
    // One deal, one id: the capitals of a UUID name the same deal, wherever the id came from.
    const opportunityId = canonicalOpportunityId(given.opportunityId);
    const command = { ...given, opportunityId, now: envelope.now } as OpportunityCommand;
    // The fingerprint is of the body as given, with the canonical id (the same fields in the same order as before).
    const fingerprint = envelope.clientSuppliedId ? fingerprintOf({ ...given, opportunityId } as OpportunityCommandBody) : undefined;
    // This request, among the retries of one keyed command (attemptOf): recorded with its events, so
    // that when the store takes a racing retry's append as its own the request knows it is a replay.
    const keyed = fingerprint === undefined ? undefined : { fingerprint, attemptId: randomUUID() };
    // An opening's key is claimed for its opportunity once the opening is decided, just before it
    // is appended: a refused opening (another team, an unknown process, an id already taken)
    // opens nothing, so its corrected retry under the same key is decided afresh, as a refused
    // command of any other type is.
    let keyClaimed = !(fingerprint && command.type === 'OpenOpportunity');

    // A stream this process folded, taken without reading the store when the store says no one
    // else writes (EventStore.isSoleWriter): only an append confirms such a fold, because the
    // append checks the expected revision. Any other end of an attempt on it (a refusal, a
    // conflict, nothing to record) is redone once on a fold read from the store, so no client is
    // ever answered from a stream another writer changed meanwhile.
    let mayUseCachedFold = true;
    // A snapshot row found damaged while deciding is dropped once and the stream read whole.
    let droppedSnapshot = false;
    // A store whose reads may come from a replica behind the leader (KurrentDB, nodePreference
    // follower or random) may show the stream short of what is stored: a deal opened elsewhere
    // missing, a change made elsewhere not there yet. An append confirms such a read (its expected
    // revision is checked on the leader); any other end of an attempt on it (not found, a refusal,
    // the client's revision not matching, nothing to record) and a conflict are redone on the
    // stream read from the leader, so no client is answered from a follower's lag, nor does a
    // command use up its retries re-reading the same lagging follower.
    const readsMayLag = this.store.readsMayLag?.() === true;
    let fromLeader = false;
    for (let attempt = 0; ; ) {
      const cached = mayUseCachedFold ? this.streams.cachedIfSoleWriter(opportunityId) : undefined;
      mayUseCachedFold = false;
      const mayBeBehind = cached === undefined && readsMayLag && !fromLeader;
      const leader = fromLeader ? { fromLeader: true } : {};
      // A stream whose events no longer replay names no team: a limited caller hears what another team's deal answers.
      const loaded = cached ?? (await readWithinTeams(envelope.teams, opportunityId, () => this.streams.load(opportunityId, leader), () => hiddenFromCommand(envelope.teams!, command)));
      let step: AttemptStep;
      try {
        const deciding = this.decideOn(loaded, command, envelope, keyed);
        step = deciding instanceof Promise ? await deciding : deciding;
      } catch (error) {
        if (cached) continue;
        if (mayBeBehind) {
          fromLeader = true;
          continue;
        }
        if (error instanceof DamagedStreamSnapshotError && !droppedSnapshot) {
          droppedSnapshot = true;
          this.streams.dropSnapshot(opportunityId);
          continue;
        }
        throw error;
      }
      if (step.kind === 'answer') {
        if (cached) continue;
        if (mayBeBehind && !step.replay) {
          fromLeader = true;
          continue;
        }
        return step.outcome;
      }

      const { newEvents, headHash, events } = step;
      if (!keyClaimed) {
        await claimOpeningKey(this.store, envelope, opportunityId);
        keyClaimed = true;
      }
      try {
        const result = await this.store.appendToStream(loaded.stream, newEvents, { expectedRevision: loaded.revision });
        if (keyed) {
          // The append may have met a racing retry of the same command id that stored first:
          // answer from what the store holds, never from this attempt's own decision.
          return await this.storedAnswer(opportunityId, envelope.commandId, keyed, newEvents.length);
        }
        const after = this.streams.appended(loaded, events, result, headHash);
        return outcomeOf(after.state, result.nextRevision, result.position, newEvents.length);
      } catch (error) {
        // A racing request with the same key stored first, with fewer events than this one (the ids
        // are the key's, by index): the store holds that command, and answers for the key.
        if (keyed && error instanceof DuplicateEventIdError) return await this.storedAnswer(opportunityId, envelope.commandId, keyed);
        // The store may refuse the append itself on a stream that names no team (KurrentDB: an opening
        // on a soft-deleted id, 410): a limited caller hears what another team's deal answers, as on a read.
        if (envelope.teams && isUnreadableStream(error)) throw hiddenFromCommand(envelope.teams, command);
        // The fold was behind the leader, where the append was checked: the leader is read from now on.
        if (error instanceof WrongExpectedRevisionError) fromLeader = true;
        // A conflict on a cached fold says the fold was behind: read, and try again uncounted.
        if (cached && error instanceof WrongExpectedRevisionError) continue;
        const retryable = error instanceof WrongExpectedRevisionError && envelope.expectedRevision === undefined;
        if (!retryable) throw error;
        if (attempt >= this.options.conflictRetries) throw new ConcurrentModificationError(attempt + 1);
        attempt += 1;
      }
    }
  }

  /**
   * The answer the store holds for a keyed command just appended (or met there), from the stream
   * read again. `appending`: how many events this attempt's append carried (none when it failed).
   */
  private async storedAnswer(opportunityId: string, commandId: string, keyed: KeyedAttempt, appending = 0): Promise<CommandOutcome> {
    for (let dropped = false; ; dropped = true) {
      this.streams.forget(opportunityId);
      // From the leader: a follower behind it would not show the events just appended.
      const reloaded = await this.streams.load(opportunityId, { fromLeader: true });
      try {
        const stored = replayOf(reloaded, commandId, keyed.fingerprint);
        // The event ids are the key's, so the store held them already, yet no keyed command is
        // recorded under it: a command sent without a key had that id (the server chose it, and the
        // history shows it). The key names that command, not this one; nothing was written.
        if (stored === undefined) throw new IdempotencyKeyReusedError(commandId);
        // The store writes nothing for an exact retry of an append already stored: when the
        // events it holds were another attempt's, this request is a replay, and says so.
        const replayed = reloaded.commands.get(commandId)!.attempt !== keyed.attemptId;
        return { ...stored, replayed, appended: replayed ? 0 : appending };
      } catch (error) {
        if (!(error instanceof DamagedStreamSnapshotError) || dropped) throw error;
        this.streams.dropSnapshot(opportunityId); // read whole the next time round
      }
    }
  }

  /**
   * Checks and decides one attempt on a folded stream: an answer without an append, or the events
   * to append. At once, unless a process version recorded elsewhere must be read first (a promise then).
   */
  private decideOn(loaded: LoadedOpportunity, command: OpportunityCommand, envelope: CommandEnvelope, keyed: KeyedAttempt | undefined): AttemptStep | Promise<AttemptStep> {
    assertCommandWithinTeams(envelope.teams, command, loaded.state, loaded.commands.has(envelope.commandId) ? envelope.commandId : undefined);
    // Nothing is decided, nor replayed, on a stream someone altered: the state folded from it is
    // not what was decided, and new events would chain onto the tampering.
    if (loaded.chainBreak) throw new StreamChainBrokenError(loaded.stream, loaded.chainBreak.revision, loaded.chainBreak.reason, loaded.chainBreak.detail);
    if (keyed) {
      const replay = replayOf(loaded, envelope.commandId, keyed.fingerprint);
      // A command the stream holds is stored, whichever node showed it: no need to ask the leader.
      if (replay) return { kind: 'answer', outcome: replay, replay: true };
    }
    const { state } = loaded;
    // Before the revision: a conflict would say "does not exist yet" where another team's deal is
    // a 404, telling a team-limited caller which ids exist.
    if (state.status === 'none' && command.type !== 'OpenOpportunity') {
      throw new OpportunityRejectedError(rejections.notFound(command.opportunityId));
    }
    if (envelope.expectedRevision !== undefined && envelope.expectedRevision !== loaded.revision) {
      throw new WrongExpectedRevisionError(loaded.stream, envelope.expectedRevision, loaded.revision);
    }
    if (
      state.status !== 'none' &&
      (this.processes.mustReadVersion(state.processId, state.processVersion) || (command.type === 'MigrateOpportunity' && this.processes.mustReadVersion(state.processId, command.toVersion)))
    ) {
      return this.versionsRead(state, command).then(() => this.decideWithVersions(loaded, command, envelope, keyed));
    }
    return this.decideWithVersions(loaded, command, envelope, keyed);
  }

  /** Reads the versions the command needs that were recorded since this instance last looked: the opportunity's own, then a migration's target. */
  private async versionsRead(state: OpenedOpportunityState, command: OpportunityCommand): Promise<void> {
    await this.processes.ensureVersion(state.processId, state.processVersion);
    if (command.type === 'MigrateOpportunity') await this.processes.ensureVersion(state.processId, command.toVersion);
  }

  /** decideOn's rest, once every process version it needs is known. */
  private decideWithVersions(loaded: LoadedOpportunity, command: OpportunityCommand, envelope: CommandEnvelope, keyed: KeyedAttempt | undefined): AttemptStep {
    const { state } = loaded;
    const process =
      state.status === 'none'
        ? this.processes.current((command as OpenOpportunity).processId)
        : this.processes.version(state.processId, state.processVersion);
    const versions = command.type === 'MigrateOpportunity' && state.status !== 'none' ? this.processes.versionLookup(state.processId) : undefined;
    const decision = decide(command, state, process, versions);
    if (!decision.ok) throw new OpportunityRejectedError(decision.error);
    // A command that changes nothing appends nothing, unless the client keyed it: its key must be
    // remembered all the same, or a retry sent after another change would be decided again and
    // undo that change (NoChangeRecorded).
    const events = decision.events.length > 0 || !keyed ? decision.events : [noChangeRecorded(command, state)];
    // Decided, compared, then appended: events other than those the caller said this command
    // records (an import replaying a log) are refused before any key is claimed or event written.
    if (envelope.mustRecord !== undefined) {
      const difference = firstEventDifference(envelope.mustRecord, events);
      if (difference !== undefined) throw new RecordedEventsDifferError(difference);
    }
    if (events.length === 0) return { kind: 'answer', outcome: outcomeOf(state, loaded.revision as number, loaded.position, 0) };

    // Stored as written, so the fields keep this order; the optional ones only when there (no objects to spread: every command writes one).
    const metadata: Record<string, unknown> = {
      commandId: envelope.commandId,
      correlationId: envelope.correlationId,
      causationId: envelope.commandId,
      actor: envelope.actor,
    };
    if (envelope.onBehalfOf !== undefined) metadata.onBehalfOf = envelope.onBehalfOf;
    metadata.authenticatedBy = envelope.authenticatedBy;
    metadata.recordedAt = envelope.now;
    if (keyed) {
      metadata.commandFingerprint = keyed.fingerprint;
      metadata.attemptId = keyed.attemptId;
    }
    // Tamper evidence is added here, above the EventStore port, so every adapter stores chained events.
    const firstRevision = loaded.revision === 'no_stream' ? 0 : loaded.revision + 1;
    const { events: newEvents, headHash } = chainNewEvents(
      loaded.stream,
      firstRevision,
      loaded.headHash,
      events.map((event, index) => ({ id: eventIdFor(loaded.stream, envelope.commandId, index), type: event.type, data: { ...event.data }, metadata })),
    );
    return { kind: 'append', newEvents, headHash, events };
  }
}

/** A keyed command as one request sends it: the fingerprint of its body, and this request's own id among its retries. */
interface KeyedAttempt {
  readonly fingerprint: string;
  readonly attemptId: string;
}

/** How an attempt ends before the store: answered as it stands, or with events to append. */
type AttemptStep =
  | { readonly kind: 'answer'; readonly outcome: CommandOutcome; readonly replay?: boolean }
  | { readonly kind: 'append'; readonly newEvents: readonly NewEvent[]; readonly headHash: string; readonly events: readonly OpportunityEvent[] };

function fingerprintOf(body: OpportunityCommandBody): string {
  return hash('sha256', canonicalJson(body), 'base64url').slice(0, 22);
}

/**
 * A command id already in the stream means this request is a retry: answer what the first one
 * answered (the state right after its events). The same key with a different body is a mistake.
 */
function replayOf(loaded: LoadedOpportunity, commandId: string, fingerprint: string): CommandOutcome | undefined {
  const recorded = loaded.commands.get(commandId);
  if (!recorded) return undefined;
  if (recorded.fingerprint !== fingerprint) throw new IdempotencyKeyReusedError(commandId);
  const { stage, status, revision, position } = recorded;
  return { id: fromOpportunityStreamId(loaded.stream)!, stage, status, revision, position, replayed: true, appended: 0 };
}

function outcomeOf(state: OpportunityState, revision: number, position: number, appended: number): CommandOutcome {
  if (state.status === 'none') throw new Error('An outcome needs an opened opportunity');
  return { id: state.id, stage: state.stage, status: state.status, revision, position, replayed: false, appended };
}
