import { existsSync } from 'node:fs';
import type { Settings } from '@stagecraft/config';
import { PositionNotInLogError, type EventStore } from '@stagecraft/event-store';
import {
  anchorAtOrBefore,
  checkpointLostOn,
  describeLogReplaced,
  findSink,
  getSQLiteRelayStateStore,
  LOG_REPLACED,
  parseSinkUrl,
  positionBefore,
  shellWord,
  withoutPassword,
  type RelayStateStore,
  type SinkCheckpoint,
  type SinkConfig,
  type StartOverAt,
} from '@stagecraft/relay';
import { CliError, EXIT } from '../cli.errors';
import { openExistingStore } from '../io/event-store';
import { printable, quoted } from '../io/printable';

// `stagecraft relay status | dead-letters | replay | start-over | discard`: the relay's checkpoints and dead letters in
// RELAY_STATE_PATH, for the sinks RELAY_SINKS names. A replay only moves a checkpoint back: the
// running relay (in the API or apps/relay) notices within a second and publishes from there.

function configuredSinks(settings: Settings): readonly SinkConfig[] {
  if (settings.relay.sinks.length === 0) throw new CliError('RELAY_SINKS is empty: no sink is configured, so there is nothing to show or replay.');
  return settings.relay.sinks;
}

function sinkNamed(settings: Settings, name: string): SinkConfig {
  const sinks = configuredSinks(settings);
  const sink = findSink(sinks, name);
  // A URL as written in RELAY_SINKS may carry a password or a token: not repeated (CI logs, tickets).
  if (!sink) throw new CliError(`No sink ${quoted(withoutPassword(name))} in RELAY_SINKS; the sinks are: ${sinks.map((entry) => entry.key).join(', ')}`);
  return sink;
}

function withState<T>(settings: Settings, use: (state: RelayStateStore) => T): T {
  const state = getSQLiteRelayStateStore(settings.relay.statePath);
  try {
    return use(state);
  } finally {
    state.close();
  }
}

export async function showRelayStatus(settings: Settings, options: { json?: boolean }): Promise<number> {
  const sinks = settings.relay.sinks;
  // Sinks taken out of RELAY_SINKS that still hold dead letters: counted as `relay dead-letters`
  // counts them, or a monitor running `relay status` would be told all is well (exit 0) while
  // letters wait that no relay sends again.
  const removed = existsSync(settings.relay.statePath)
    ? withState(settings, (state) => {
        const firsts = new Map<string, { first: number; count: number }>();
        for (const letter of state.deadLetters()) {
          if (findSink(sinks, letter.sink)) continue;
          const seen = firsts.get(letter.sink);
          firsts.set(letter.sink, { first: seen?.first ?? letter.position, count: (seen?.count ?? 0) + 1 });
        }
        return firsts;
      })
    : new Map<string, { first: number; count: number }>();
  if (removed.size === 0) configuredSinks(settings);
  const store = openExistingStore(settings);
  try {
    const head = await store.headPosition();
    const saved = existsSync(settings.relay.statePath)
      ? withState(settings, (state) => {
          const counts = state.deadLetterCounts();
          return sinks.map((sink) => ({ sink, checkpoint: state.checkpoint(sink.key), deadLetters: counts.get(sink.key) ?? 0 }));
        })
      : sinks.map((sink) => ({ sink, checkpoint: undefined as SinkCheckpoint | undefined, deadLetters: 0 }));
    const rows: { sink: string; kind: string; state: string; checkpoint: number | null; lag: number | null; deadLetters: number; updatedAt: string | null; lastError?: string; lastErrorAt?: string; problem?: string }[] = [];
    for (const { sink, checkpoint, deadLetters } of saved) {
      // The check the relay makes before it follows the log: a checkpoint of another log is named here too.
      const lost = checkpoint ? await checkpointLostOn(store, checkpoint) : undefined;
      rows.push({
        sink: sink.key,
        kind: sink.kind,
        state: lost !== undefined ? LOG_REPLACED : checkpoint ? 'ok' : 'not-started',
        checkpoint: checkpoint?.position ?? null,
        lag: checkpoint && lost === undefined ? Math.max(0, head - checkpoint.position) : null,
        deadLetters,
        updatedAt: checkpoint?.updatedAt ?? null,
        // What the relay last met sending to it (saved in the state file; cleared once it sends
        // again): this command reads the file, not the running relay's /health.
        ...(checkpoint?.lastError !== undefined ? { lastError: checkpoint.lastError.message, lastErrorAt: checkpoint.lastError.at } : {}),
        ...(lost !== undefined ? { problem: describeLogReplaced(sink.key, checkpoint!.position, lost) } : {}),
      });
    }
    for (const [key, { first, count }] of removed) {
      rows.push({
        sink: key,
        kind: sinkKind(key),
        state: 'removed',
        checkpoint: null,
        lag: null,
        deadLetters: count,
        updatedAt: null,
        problem: `no longer in RELAY_SINKS: nothing sends its ${count} dead letter(s) again; give each up: stagecraft relay discard --sink ${shellWord(key)} --position ${first} (stagecraft relay dead-letters --sink ${shellWord(key)} lists them)`,
      });
    }
    if (options.json) {
      console.log(JSON.stringify({ headPosition: head, sinks: rows }, null, 2));
    } else {
      console.log(`log head: position ${head}`);
      for (const row of rows) {
        if (row.problem !== undefined) console.log(`${row.sink}  ${row.problem}`);
        else if (row.checkpoint === null) console.log(`${row.sink}  not started yet`);
        else console.log(`${row.sink}  checkpoint ${row.checkpoint}  lag ${row.lag}  dead letters ${row.deadLetters}  (saved ${row.updatedAt})`);
        // The sink's own words may be a subscriber's (a webhook's answer): escaped as any recorded text.
        if (row.problem === undefined && row.lastError !== undefined) console.log(`${row.sink}  failing since ${row.lastErrorAt}: ${printable(row.lastError)}`);
      }
    }
    return rows.some((row) => row.deadLetters > 0 || row.problem !== undefined) ? EXIT.failed : EXIT.ok;
  } finally {
    await store.close();
  }
}

/** The kind of sink a key names (a key in the state file that RELAY_SINKS no longer lists). */
function sinkKind(key: string): string {
  try {
    return parseSinkUrl(key).kind;
  } catch {
    return 'unknown';
  }
}

/**
 * Starts a sink over on the log the store holds now, once its checkpoint was found to belong to
 * another (a restore from an older backup, another store): before its first event (its whole
 * history published again) or at its head (only what is written from now on). The operator's
 * choice, never the relay's: see checkpoint-log.ts. Its dead letters, positions of the other log,
 * go — only when the operator says so (`discardDeadLetters`): they are the one record of events its
 * subscriber never took, which no replay on this log can send again, so they are refused until
 * exported (`relay dead-letters --json`) or knowingly given up. A checkpoint that belongs to this
 * log is refused: `relay replay` moves it back.
 */
export async function startOverSink(settings: Settings, options: { sink: string; at: StartOverAt; discardDeadLetters?: boolean }): Promise<number> {
  const sink = sinkNamed(settings, options.sink);
  const store = openExistingStore(settings);
  try {
    if (!existsSync(settings.relay.statePath)) throw new CliError(`${sink.key} has not started yet (${settings.relay.statePath} does not exist): its first start puts it where RELAY_NEW_SINK_FROM says.`);
    const checkpoint = withState(settings, (state) => state.checkpoint(sink.key));
    if (!checkpoint) throw new CliError(`${sink.key} has not started yet: its first start puts it where RELAY_NEW_SINK_FROM says.`);
    const lost = await checkpointLostOn(store, checkpoint);
    if (lost === undefined) {
      throw new CliError(
        `${sink.key}'s checkpoint (position ${checkpoint.position}) belongs to the event log it reads: there is nothing to start over. To publish again from a position: stagecraft relay replay --sink ${shellWord(sink.key)} --from <position>`,
      );
    }
    const head = await store.headPosition();
    const logId = (await store.readAll({ maxCount: 1 }))[0]?.id ?? '';
    const after = options.at === 'end' ? head : 0;
    const anchor = await anchorAtOrBefore(store, after);
    const cleared = withState(settings, (state) => {
      const letters = state.deadLetters(sink.key).length;
      if (letters > 0 && options.discardDeadLetters !== true) {
        const sinkWord = shellWord(sink.key);
        throw new CliError(
          `${sink.key} holds ${letters} dead letter(s), events of the other log its subscriber never took: starting over discards them, and no replay on this log can send them again. ` +
            `Export them first: stagecraft relay dead-letters --sink ${sinkWord} --json > dead-letters.json; then start over, giving them up: stagecraft relay start-over --sink ${sinkWord} --at ${options.at} --discard-dead-letters`,
          EXIT.failed,
        );
      }
      state.requestReplay(sink.key, after, 0, logId, anchor);
      return letters;
    });
    console.log(
      `${sink.key} starts over on this event log ${options.at === 'end' ? `at its head (position ${head}): only events written from now on are published` : `from its beginning (log head ${head}): its whole history is published again, with the same event ids`}` +
        `${cleared > 0 ? `; its ${cleared} dead letter(s), positions of the other log, were discarded` : ''}.\n` +
        'A running relay goes on within a second; otherwise the next start does.',
    );
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

export function showDeadLetters(settings: Settings, options: { sink?: string; json?: boolean }): number {
  const exists = existsSync(settings.relay.statePath);
  const sink = options.sink !== undefined ? (exists ? withState(settings, (state) => listedSinkKey(settings, state, options.sink!)) : sinkNamed(settings, options.sink).key) : undefined;
  const letters = exists ? withState(settings, (state) => state.deadLetters(sink)) : [];
  // The last sink taken out of RELAY_SINKS (the relay turned off) leaves its letters all the same:
  // listed while any is left, so that they can be given up; with none, there is nothing to show.
  if (letters.length === 0) configuredSinks(settings);
  if (options.json) {
    console.log(JSON.stringify(letters.map(({ body, ...letter }) => ({ ...letter, event: JSON.parse(body) as unknown })), null, 2));
  } else if (letters.length === 0) {
    console.log('No dead letters.');
  } else {
    for (const letter of letters) {
      console.log(`${letter.sink}  position ${letter.position}  ${letter.type}  event ${letter.eventId}  opportunity ${letter.subject}  ${letter.attempts} attempts, last: ${letter.lastError}  (${letter.failedAt})`);
    }
    // Those of a sink taken out of RELAY_SINKS: no relay sends them again, and no replay can.
    const removedSinks = new Set(letters.map((letter) => letter.sink).filter((key) => !findSink(settings.relay.sinks, key)));
    const replayable = letters.some((letter) => !removedSinks.has(letter.sink));
    console.log(`\n${letters.length} dead letter(s).${replayable ? ' Once the subscriber is fixed: stagecraft relay replay --sink <sink> --from <position>' : ''}`);
    for (const removed of removedSinks) {
      const first = letters.find((letter) => letter.sink === removed)!.position;
      console.log(`${removed} is no longer in RELAY_SINKS: nothing sends its dead letters again. Give each up with: stagecraft relay discard --sink ${shellWord(removed)} --position ${first} (and so on)`);
    }
  }
  return letters.length > 0 ? EXIT.failed : EXIT.ok;
}

/**
 * The key of a sink `--sink` names: one of RELAY_SINKS, or one the state file still holds dead
 * letters of (a sink since taken out of RELAY_SINKS, whose letters must stay visible and discardable).
 */
function listedSinkKey(settings: Settings, state: RelayStateStore, name: string): string {
  const configured = findSink(settings.relay.sinks, name);
  if (configured) return configured.key;
  const removed = findSink([...new Set(state.deadLetters().map((letter) => letter.sink))].map((key) => ({ key })), name);
  return removed?.key ?? sinkNamed(settings, name).key;
}

export async function replaySink(settings: Settings, options: { sink: string; from: number }): Promise<number> {
  const sink = sinkNamed(settings, options.sink);
  const store = openExistingStore(settings);
  try {
    const head = await store.headPosition();
    if (options.from > head) throw new CliError(`Nothing to replay from position ${options.from}: the log ends at position ${head}. Give the position of an event already published (stagecraft relay status shows each sink's checkpoint; stagecraft relay dead-letters the dead letters).`);
    const logId = (await store.readAll({ maxCount: 1 }))[0]?.id ?? '';
    const after = await eventBefore(store, options.from);
    const anchor = await anchorAtOrBefore(store, after);
    const cleared = withState(settings, (state) => {
      // A replay only goes back: moved forward, the checkpoint would pass events never published,
      // and no later start would send them.
      // A sink not started yet stands where its first start puts it: with RELAY_NEW_SINK_FROM=beginning,
      // before the first event (a replay from anywhere later would skip the events before it).
      const checkpoint = state.checkpoint(sink.key);
      if (checkpoint && after > checkpoint.position) {
        throw new CliError(
          `Nothing to replay from position ${options.from}: ${sink.key} has published up to position ${checkpoint.position} only, and goes on from there by itself; a replay from ${options.from} would skip the events between. Give a position at or before ${checkpoint.position}.`,
        );
      }
      if (!checkpoint && settings.relay.newSinkFrom === 'beginning' && after > 0) {
        throw new CliError(
          `Nothing to replay from position ${options.from}: ${sink.key} has not started yet, and publishes the log from its beginning at its first start (RELAY_NEW_SINK_FROM=beginning); a replay from ${options.from} would skip the events before it. Start the relay, or set RELAY_NEW_SINK_FROM=end to start a new sink at the log's end.`,
        );
      }
      const before = state.deadLetters(sink.key).filter((letter) => letter.position >= options.from).length;
      state.requestReplay(sink.key, after, options.from, logId, anchor);
      return before;
    });
    console.log(
      `${sink.key} publishes again from position ${options.from} (log head ${head})${cleared > 0 ? `; ${cleared} dead letter(s) from there on cleared, to be sent again` : ''}.\n` +
        'A running relay starts over within a second; otherwise the next start does. Subscribers see repeats with the same event ids.',
    );
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

/**
 * The position of the event before `from`, which must be where an event starts on a store that
 * can read only from there (KurrentDB: positions are byte offsets of records).
 */
async function eventBefore(store: EventStore, from: number): Promise<number> {
  try {
    return await positionBefore(store, from);
  } catch (error) {
    if (!(error instanceof PositionNotInLogError)) throw error;
    throw new CliError(`No event starts at position ${from}: this store's positions are where its events start, and it reads only from those. Give the position of an event (stagecraft relay status shows each sink's checkpoint; stagecraft relay dead-letters the dead letters).`);
  }
}

/**
 * Gives up on one dead letter a subscriber will never take (it refuses that event for good): it
 * is no longer listed and no replay sends it again. The later events of its opportunity, held
 * back behind it, stay dead letters until a replay from its position sends them, in order.
 */
export function discardDeadLetter(settings: Settings, options: { sink: string; position: number }): number {
  if (!existsSync(settings.relay.statePath)) throw new CliError(`${sinkNamed(settings, options.sink).key} has no dead letter at position ${options.position} (no relay has run: ${settings.relay.statePath} does not exist).`);
  return withState(settings, (state) => {
    const key = listedSinkKey(settings, state, options.sink);
    const configured = findSink(settings.relay.sinks, key) !== undefined;
    // One held back behind another was never sent, so never refused: giving up on it would lose it
    // (a replay from the other sends it). A sink out of RELAY_SINKS sends nothing again: any may go.
    const listed = state.deadLetters(key).find((entry) => entry.position === options.position);
    const blocker = configured && listed?.attempts === 0 ? state.deadLetters(key).find((entry) => entry.subject === listed.subject && entry.attempts > 0 && entry.position < listed.position) : undefined;
    if (listed && blocker) {
      throw new CliError(
        `The event at position ${options.position} was held back behind the dead letter at position ${blocker.position} of the same opportunity, never sent: the subscriber did not refuse it. Discard position ${blocker.position} if the subscriber refuses that one for good, then replay from it: stagecraft relay replay --sink ${shellWord(key)} --from ${blocker.position}`,
      );
    }
    const letter = state.discard(key, options.position);
    if (!letter) {
      const positions = state.deadLetters(key).map((entry) => entry.position);
      throw new CliError(`${key} has no dead letter at position ${options.position}${positions.length > 0 ? `; its dead letters are at ${positions.join(', ')}` : '; it has none'}.`);
    }
    const heldBack = state.deadLetters(key).filter((entry) => entry.subject === letter.subject && entry.position > letter.position);
    console.log(
      `Discarded ${letter.type} (event ${letter.eventId}, position ${letter.position}, opportunity ${letter.subject}) for ${key}: it is not sent again, not even by a replay.` +
        (configured && heldBack.length > 0
          ? `\n${heldBack.length} later event(s) of that opportunity were held back behind it; send them, in order, with: stagecraft relay replay --sink ${shellWord(key)} --from ${letter.position}`
          : ''),
    );
    return EXIT.ok;
  });
}
