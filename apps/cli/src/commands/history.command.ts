import { describeHiddenStream, describeUncheckedHiding, foldAsOf, openingOf, timelineOf, toOpportunityEvent, UnreadableInstantError, versionNamedBy, type AsOfAxis, type HiddenStream, type Opening, type TimelineStep, type UncheckedHiding } from '@stagecraft/audit';
import { foldOpportunity, OPPORTUNITY_STREAM_PREFIX, toOpportunityStreamId, UnexpectedEventError, UnknownEventTypeError, type OpportunityState } from '@stagecraft/opportunity';
import type { Settings } from '@stagecraft/config';
import { toProcessStreamId } from '@stagecraft/sales-process';
import { leaderReads, StreamDeletedError } from '@stagecraft/event-store';
import { hidingInRead } from '../io/stream-hiding';
import { CliError, EXIT } from '../cli.errors';
import { openExistingStore, storeWhere } from '../io/event-store';
import { instantOption } from '../io/instant-option';
import { isUuid, opportunityIdArgument, opportunityStreamNamed } from '../io/opportunity-id';
import { printable } from '../io/printable';
import { RecordedProcesses } from '../io/process-versions';

export interface HistoryOptions {
  readonly asOf?: string;
  /** The clock of asOf (occurredAt when not given); only with asOf. */
  readonly axis?: AsOfAxis;
  readonly json?: boolean;
}

/**
 * `stagecraft history <id>`: an opportunity's timeline — each step with the stage before and after,
 * the time spent in the stage it left, who did it, the exit criteria met at that moment, the note.
 * With --as-of, only what had happened by that instant (business time, or --axis recordedAt for
 * what the system knew then), and the opportunity's state at that instant.
 */
export async function showHistory(settings: Settings, givenId: string, given: HistoryOptions): Promise<number> {
  // Alone, --axis would change nothing, and the whole history would pass for what the system knew at some instant.
  if (given.axis !== undefined && given.asOf === undefined) throw new CliError('--axis is the clock of --as-of: give it with --as-of.');
  const options = { ...given, axis: given.axis ?? 'occurredAt' };
  const asOf = options.asOf === undefined ? undefined : instantOption('--as-of', options.asOf);
  // A UUID (in capitals too), or a stream name as `verify --all` prints a broken one
  // (opportunity-<UUID>), as verify takes it; anything else is a backfill's source id.
  const named = opportunityStreamNamed(givenId)?.slice(OPPORTUNITY_STREAM_PREFIX.length) ?? (isUuid(givenId) ? givenId.toLowerCase() : undefined);
  const opportunityId = named ?? opportunityIdArgument(givenId);
  const sourceId = named === undefined ? givenId : undefined;
  const store = openExistingStore(settings);
  try {
    // From the leader: a follower behind it (nodePreference=follower or random) would deny a deal
    // opened moments ago, or not hold the process version it names yet.
    const leader = leaderReads(store);
    const stream = toOpportunityStreamId(opportunityId);
    // A stream deleted for good reads as empty: what hides it is named below.
    const events = await leader.readStream(stream).catch((error: unknown) => {
      if (error instanceof StreamDeletedError) return [];
      throw error;
    });
    if (events.length === 0) {
      // Hidden whole by a store setting (a tombstone, a soft delete, stream metadata): named as verify names it, not "no opportunity".
      const { hidden, unchecked } = await hidingInRead(store, stream, undefined);
      if (hidden.length > 0) throw new CliError(`No event of opportunity ${opportunityId} can be read in ${storeWhere(settings)}: the store hides them from readers (\`stagecraft verify ${givenId}\` reports it):`, EXIT.failed, hidden.map(describeHiddenStream));
      // Whether a setting hides it whole could not be asked: not said to be absent, nor checked (exit 3), as verify says it.
      if (unchecked) throw new CliError(`No event of opportunity ${opportunityId} can be read in ${storeWhere(settings)}: never written, deleted, or hidden from readers, which could not be told apart:`, EXIT.unavailable, [describeUncheckedHiding(unchecked)]);
      throw new CliError(`There is no opportunity ${sourceId === undefined ? opportunityId : `${sourceId} (id ${opportunityId})`} in ${storeWhere(settings)}.`, EXIT.failed);
    }
    // As the API answers (STREAM_UNREADABLE): a stream that no longer starts at revision 0 lost its
    // first events (deleted from the file, truncated on the server); folded from the middle, the
    // first event left fails to apply as if the bug were in the fold, and nothing says the log was edited.
    const first = events[0]!.revision;
    if (first !== 0) {
      // A setting that hides them (KurrentDB's $tb, $maxCount, $maxAge) is named, as verify names it.
      const { hidden, unchecked } = await hidingInRead(store, stream, events.at(-1)!.revision);
      // A user refused the stream's metadata cannot tell a setting from tampering: said so (UNCHECKED, exit 3), as verify says it.
      if (hidden.length === 0 && unchecked) {
        throw new CliError(
          `The stored events of opportunity ${opportunityId} cannot be replayed: the event store no longer shows those before revision ${first}, hidden from readers by a setting or cut by tampering, which could not be told apart:`,
          EXIT.unavailable,
          [describeUncheckedHiding(unchecked)],
        );
      }
      const by = hidden.length > 0 ? `, hidden from readers by a setting: ${hidden.map(describeHiddenStream).join('; ')}` : ' (truncated or deleted there, by an operator or by tampering)';
      throw unreplayable(givenId, opportunityId, `the event store no longer shows those before revision ${first}${by}: the stream was altered`);
    }
    const processes = new RecordedProcesses(leader);
    const processId = events[0]!.data.processId;
    // A version its process stream no longer gives (deleted, cut, rewritten, unreadable) leaves only
    // its names out: said on stderr, and the history printed all the same.
    const unread = typeof processId === 'string' ? await processes.load(processId) : undefined;
    const unnamed = typeof processId === 'string' ? [...new Set(events.map(versionNamedBy))].filter((version) => version !== undefined && processes.version(processId, version) === undefined) : [];
    // What a store setting hides of what this history read (--json's `hidden`, as verify's): its own
    // stream reads from revision 0 here, which no setting cuts; its process's stream, when it no longer gives a version.
    let hiding: { readonly hidden: HiddenStream[]; readonly unchecked?: UncheckedHiding } = { hidden: [] };
    if (unnamed.length > 0) {
      // A setting hiding the process stream's versions (KurrentDB's stream metadata, a delete) is named, as verify names it.
      const processStream = toProcessStreamId(processId as string);
      hiding = await hidingInRead(store, processStream, processes.lastRevision(processId as string));
      const { hidden, unchecked } = hiding;
      const why = [...(unread === undefined ? [] : [unread]), ...hidden.map(describeHiddenStream), ...(unchecked ? [describeUncheckedHiding(unchecked)] : [])].join('; ') || `${processStream} holds no definition of it this version can read (deleted, cut or rewritten)`;
      console.error(`stagecraft: the stage and criterion names of process ${processId} version ${unnamed.join(', ')} are left out: ${why}. \`stagecraft verify ${givenId}\` reports it.`);
    }
    const resolve = (id: string, version: string) => processes.version(id, version);

    let folded: { current: OpportunityState; revision: number | null; steps: TimelineStep[] };
    try {
      const { state, revision } = asOf === undefined ? { state: undefined, revision: events[events.length - 1]!.revision } : foldAsOfOrFail(events, asOf, options.axis);
      const included = asOf === undefined ? events : events.filter((event) => revision !== null && event.revision <= revision);
      // Today's state folds every event, as the API's GET /opportunities/:id does: an as-of fold stops
      // at an event without a readable business time (an edited log), and would show an earlier state.
      folded = { current: state ?? foldOpportunity(events.map(toOpportunityEvent)), revision, steps: timelineOf(included, resolve) };
    } catch (error) {
      // Events that do not follow one another (one deleted or moved), or lack what folding them needs: the API's STREAM_UNREADABLE.
      if (error instanceof UnexpectedEventError) throw unreplayable(givenId, opportunityId, `${error.message}; the log may have been altered`);
      if (error instanceof UnknownEventTypeError) {
        throw unreplayable(givenId, opportunityId, `the one at revision ${error.revision} is of type "${error.eventType}", which this version does not read (written by a newer version, or the log was altered)`);
      }
      throw error;
    }
    const { current, revision, steps } = folded;
    // Nothing folded: the instant is before the opening on that clock. An empty history and exit 0
    // would read as a deal with nothing done by then.
    if (asOf !== undefined && revision === null) throw notYetOpened(opportunityId, new Date(asOf).toISOString(), options.axis, openingOf(events)!);

    if (options.json) {
      console.log(
        JSON.stringify(
          {
            opportunityId,
            ...(asOf !== undefined ? { asOf: new Date(asOf).toISOString(), axis: options.axis } : {}),
            revision,
            state: current,
            steps,
            hidden: hiding.hidden,
            ...(hiding.unchecked ? { unchecked: [hiding.unchecked] } : {}),
          },
          null,
          2,
        ),
      );
      return EXIT.ok;
    }
    const when = asOf === undefined ? '' : ` as of ${new Date(asOf).toISOString()} (${options.axis === 'occurredAt' ? 'business time' : 'recording time'})`;
    console.log(`Opportunity ${opportunityId}${sourceId === undefined ? '' : ` (source id ${sourceId})`}${when}`);
    console.log(`  ${describeState(current, resolve)}`);
    if (steps.length > 0) console.log('');
    for (const step of steps) console.log(formatStep(step));
    return EXIT.ok;
  } finally {
    await store.close();
  }
}

/** The stored events do not replay (exit 1): what the API's STREAM_UNREADABLE says, and where the break is found. */
function unreplayable(givenId: string, opportunityId: string, why: string): CliError {
  return new CliError(`The stored events of opportunity ${opportunityId} cannot be replayed: ${why}. \`stagecraft verify ${givenId}\` locates the break.`, EXIT.failed);
}

/** An as-of read before the opportunity existed on its clock (exit 1): when it was opened and recorded, to ask again from there. */
function notYetOpened(opportunityId: string, instant: string, axis: AsOfAxis, opening: Opening): CliError {
  const clock = axis === 'occurredAt' ? 'business time' : 'recording time';
  const opened = `opened at ${opening.occurredAt ?? '(no readable business time)'} (business time, occurredAt) and recorded at ${opening.recordedAt ?? '(no readable recording time)'} (recording time, recordedAt)`;
  const from = axis === 'occurredAt' ? opening.occurredAt : opening.recordedAt;
  const ask = from === undefined ? '' : `; ask --as-of ${from} or later${axis === 'recordedAt' ? ' with --axis recordedAt' : ''}`;
  return new CliError(`Opportunity ${opportunityId} did not exist yet at ${instant} (${clock}): it was ${opened}${ask}.`, EXIT.failed);
}

/** The as-of fold, refused (exit 1, naming the event) where an event's instant cannot be read: never an earlier state passed off as the one then. */
function foldAsOfOrFail(...args: Parameters<typeof foldAsOf>): ReturnType<typeof foldAsOf> {
  try {
    return foldAsOf(...args);
  } catch (error) {
    if (error instanceof UnreadableInstantError) throw new CliError(`${error.message}. \`stagecraft verify <id>\` locates what was altered; history without --as-of shows every event.`, EXIT.failed);
    throw error;
  }
}

function describeState(state: OpportunityState, resolve: (id: string, version: string) => { stage(id: string): { name: string } | undefined } | undefined): string {
  if (state.status === 'none') return 'did not exist yet';
  const process = resolve(state.processId, state.processVersion);
  const stageName = process?.stage(state.stage)?.name ?? state.stage;
  const where =
    state.status === 'open' ? `open in ${stageName} since ${state.stageEnteredAt}${state.criteriaMet.length > 0 ? `, criteria met: ${state.criteriaMet.join(', ')}` : ''}` : `${state.status} in ${stageName} at ${state.closedAt}${state.status === 'lost' ? ` (reason: ${state.reason})` : ''}${state.nextSteps ? `; next steps: ${state.nextSteps}` : ''}`;
  const facts = [
    `"${state.title}"`,
    `process ${state.processId}@${state.processVersion}`,
    state.amount !== undefined ? `amount ${state.amount}${state.currency ? ` ${state.currency}` : ''}` : undefined,
    state.teamId ? `team ${state.teamId}` : undefined,
    state.ownerId ? `owner ${state.ownerId}` : undefined,
  ].filter(Boolean);
  return `${printable(where)}\n  ${printable(facts.join(' · '))}`;
}

function formatStep(step: TimelineStep): string {
  const name = (id: string | null, label: string | null) => (id === null ? '' : (label ?? id));
  const move =
    step.kind === 'opened'
      ? `opened in ${name(step.stageAfter, step.stageAfterName)}`
      : step.kind === 'expected-close-date-changed'
        ? `expected close date ${step.expectedCloseDateBefore ?? 'none'} → ${step.expectedCloseDateAfter ?? 'none'} (in ${name(step.stageAfter, step.stageAfterName)})`
      : step.kind === 'migrated'
        ? `migrated ${step.fromVersion} → ${step.processVersion}: ${name(step.stageBefore, step.stageBeforeName)} → ${name(step.stageAfter, step.stageAfterName)}`
        : `${name(step.stageBefore, step.stageBeforeName)} → ${name(step.stageAfter, step.stageAfterName)}${step.direction ? ` (${step.direction})` : ''}`;
  // An event whose business time was edited away or into something that is no instant (verify says so): no time spent.
  const spent = step.secondsInStageLeft === null ? '' : `  after ${duration(step.secondsInStageLeft)} in ${name(step.stageBefore, step.stageBeforeName)}`;
  const by = step.actor ? `  by ${step.actor}${step.onBehalfOf ? ` for ${step.onBehalfOf}` : ''}` : '';
  const when = typeof step.occurredAt === 'string' ? step.occurredAt : '(no business time)';
  const lines = [`${when}  ${move}${spent}${by}  [rev ${step.revision}]`];
  if (step.reason) lines.push(`    reason: ${step.reason}`);
  if (step.nextSteps) lines.push(`    next steps: ${step.nextSteps}`);
  for (const evidence of step.criteriaMet) {
    const extras = [`met ${evidence.metAt}`, evidence.metBy ? `by ${evidence.metBy}` : undefined, evidence.note ? `"${evidence.note}"` : undefined].filter(Boolean).join(', ');
    lines.push(`    ✓ ${evidence.criterionId}${evidence.description ? ` — ${evidence.description}` : ''} (${extras})`);
  }
  if (step.note) lines.push(`    note: ${step.note}`);
  // Each line on its own: the notes and next steps in it are a client's text (io/printable.ts).
  return lines.map(printable).join('\n');
}

/** 93784 → "1d 2h 3m 4s": readable at a glance, exact to the second. */
export function duration(seconds: number): string {
  let rest = Math.round(seconds);
  if (rest === 0) return '0s';
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3_600], ['m', 60], ['s', 1]] as const) {
    const amount = Math.floor(rest / size);
    if (amount > 0) parts.push(`${amount}${unit}`);
    rest -= amount * size;
  }
  return parts.join(' ');
}
