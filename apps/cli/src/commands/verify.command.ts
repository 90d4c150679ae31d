import {
  describeHiddenStream,
  describeUncheckedHiding,
  firstRevisionLeft,
  formatLogHead,
  HiddenStreamsFinder,
  hiddenFromStreamRead,
  isVouchedFor,
  lastHashlessPosition,
  LogAuditor,
  parseLogHead,
  processStreamOf,
  uncheckedFrom,
  uncheckedHiding,
  verifyOpportunityAsRead,
  verifyStreamChain,
  withBreaksByRevision,
  type ChainVerdict,
  type HiddenStream,
  type LogAudit,
  type LogHead,
  type OpportunityVerificationWithHidden,
  type UncheckedHiding,
} from '@stagecraft/audit';
import { OPPORTUNITY_STREAM_PREFIX, toOpportunityStreamId } from '@stagecraft/opportunity';
import { PROCESS_STREAM_PREFIX } from '@stagecraft/sales-process';
import type { Settings } from '@stagecraft/config';
import { LogChainStart } from '@stagecraft/commands';
import { CliError, EXIT } from '../cli.errors';
import { EventStoreAccessDeniedError, leaderReads, readAllPages, readStreamUpToUnreadable, StreamDeletedError, UnreadableEventError, type EventStore, type StreamHiding, type StreamUpToUnreadable } from '@stagecraft/event-store';
import { openExistingStore, storeWhere } from '../io/event-store';
import { isUuid, opportunityIdArgument, opportunityIdFor, opportunityStreamNamed } from '../io/opportunity-id';
import { isBackfillSourceId } from '../import/backfill.row';
import { progressBar } from '../io/progress';
import { quoted } from '../io/printable';

export interface VerifyOptions {
  readonly all?: boolean;
  readonly json?: boolean;
  /** With --all: a head printed by an earlier `verify --all` (`<digest>@<position>`), which the log must still reproduce. */
  readonly head?: string;
  /** Kept for scripts that pass it: failing when nothing vouches for a stream is now the rule. */
  readonly strict?: boolean;
}

const PAGE = 5_000;

/**
 * `stagecraft verify <id>`: the opportunity's chain and its process's, judged as the API's
 * GET /opportunities/:id/verify judges them (libs/audit's verifyOpportunity). `--all`: the whole
 * log in position order — every chain, deleted positions, and a head to keep (`--head` checks one
 * kept earlier). Exit 0 verified, 1 not.
 */
export async function verifyChains(settings: Settings, target: string | undefined, options: VerifyOptions): Promise<number> {
  if (options.head !== undefined && !options.all) throw new CliError('--head checks the whole log: give it with --all.');
  if (target !== undefined && options.all) throw new CliError('Give one opportunity id (or stream name) or --all, not both.');
  if (target === undefined && !options.all) throw new CliError('Give one opportunity id (or stream name), or --all.');
  // An id no opportunity can have is a usage error before the store is opened, as for history.
  if (target !== undefined && !target.startsWith(PROCESS_STREAM_PREFIX) && opportunityStreamNamed(target) === undefined) opportunityIdArgument(target);
  const keptHead = options.head === undefined ? undefined : parseLogHead(options.head);
  if (options.head !== undefined && !keptHead) throw new CliError(`--head takes the "keep:" value an earlier verify --all printed, <64 hex digits>@<position> (or that whole "keep: …" line); got ${quoted(options.head)}.`);
  const store = openExistingStore(settings);
  try {
    if (target === undefined) return await verifyLog(store, settings, keptHead, options);
    if (target.startsWith(PROCESS_STREAM_PREFIX)) return await verifyProcessStream(store, settings, target, options);
    const named = opportunityStreamNamed(target) ?? (isUuid(target) ? toOpportunityStreamId(target) : undefined);
    return await verifyOpportunityStreams(store, settings, named ?? toOpportunityStreamId(opportunityIdFor(target)), options, named === undefined ? target : undefined);
  } finally {
    await store.close();
  }
}

/** `sourceId`: the backfill source id the deal was named by, for a message that it is not there. */
async function verifyOpportunityStreams(store: EventStore, settings: Settings, stream: string, options: VerifyOptions, sourceId?: string): Promise<number> {
  const { events, unreadable, hiding, unchecked } = await readStreamOrFail(store, settings, stream, sourceId);
  const processStream = processStreamOf(events);
  // A process stream deleted for good reads as empty: the verifier reports it missing, or hidden by its tombstone.
  const processRead = processStream === undefined ? null : await readStreamUpToUnreadable(leaderReads(store), processStream).catch(emptyWhenDeleted);
  // Events without a hash: written before tamper evidence only if the log was not chained yet before them (as the API's /verify asks).
  const hashless = lastHashlessPosition([...events, ...(processRead?.events ?? [])]);
  const chainedSince = hashless === undefined ? undefined : await new LogChainStart(store).chainedBefore(hashless);
  // An event that cannot be read is its stream's break, in the report as `verify --all` names it;
  // what the store's settings hide is named by the setting (ALTERED), as --all and the API name it.
  const processHiding = processStream === undefined ? {} : await hidingOf(store, processStream);
  const report = verifyOpportunityAsRead(stream.slice(OPPORTUNITY_STREAM_PREFIX.length), events, processRead?.events ?? null, { opportunity: unreadable, process: processRead?.unreadable }, chainedSince, {
    opportunity: hiding,
    process: processHiding.hiding,
    unchecked: [...(unchecked ? [unchecked] : []), ...(processHiding.unchecked ? [processHiding.unchecked] : [])],
  });
  if (options.json) console.log(JSON.stringify(report, null, 2));
  else console.log(describeOpportunity(report));
  const found = !isVouchedFor(report.opportunity) || !isVouchedFor(report.process) || report.hidden.length > 0;
  return report.ok ? EXIT.ok : !found && report.unchecked ? EXIT.unavailable : EXIT.failed;
}

/**
 * What the store's settings hide of a stream, or the check it could not make: a user refused the
 * streams' metadata (KurrentDB: read on $$<stream>) is named, with the right it lacks, and
 * verify exits 3 unless it found a break or hidden events anyway.
 */
async function hidingOf(store: EventStore, stream: string): Promise<{ readonly hiding?: StreamHiding; readonly unchecked?: UncheckedHiding }> {
  try {
    return { hiding: await store.streamHiding?.(stream) };
  } catch (error) {
    if (error instanceof EventStoreAccessDeniedError) return { unchecked: uncheckedHiding(stream, error.user) };
    throw error;
  }
}

async function verifyProcessStream(store: EventStore, settings: Settings, stream: string, options: VerifyOptions): Promise<number> {
  // No process has that stream, but a backfill may have given a deal that source id ("sales-process-7"): that deal is meant.
  if (isBackfillSourceId(stream) && (await isEmptyStream(store, stream)) && !(await isEmptyStream(store, toOpportunityStreamId(opportunityIdFor(stream))))) {
    return verifyOpportunityStreams(store, settings, toOpportunityStreamId(opportunityIdFor(stream)), options, stream);
  }
  const read = await readStreamOrFail(store, settings, stream);
  const { events, unreadable, hiding } = read;
  const hashless = lastHashlessPosition(events);
  const hidden = hiding ? hiddenFromStreamRead(hiding, events.at(-1)?.revision) : [];
  // A read starting past revision 0 whose settings could not be read: hidden or cut, not told apart (UNCHECKED), as verify <id> says it.
  const firstRead = events[0]?.revision ?? 0;
  const unchecked = read.unchecked && firstRead > 0 ? uncheckedFrom(read.unchecked, firstRead) : read.unchecked;
  // Checked from the first revision the store's settings leave to readers: those before are named by the setting.
  const verdict = verifyStreamChain(events, stream, unreadable, hashless === undefined ? undefined : await new LogChainStart(store).chainedBefore(hashless), firstRevisionLeft(hidden) ?? unchecked?.firstReadRevision);
  const ok = isVouchedFor(verdict) && hidden.length === 0 && unchecked === undefined;
  if (options.json) console.log(JSON.stringify({ ok, process: verdict, hidden, ...(unchecked ? { unchecked: [unchecked] } : {}) }, null, 2));
  else console.log([...(isHiddenWhole(verdict, hidden) ? [] : [describe(verdict)]), ...hidden.map(describeHiddenStream), ...(unchecked ? [describeUncheckedHiding(unchecked)] : [])].join('\n'));
  if (ok) return EXIT.ok;
  return isVouchedFor(verdict) && hidden.length === 0 ? EXIT.unavailable : EXIT.failed;
}

/**
 * The stream as far as it reads, the event it stops at where one cannot be read (reported as the
 * break there), and what the store's settings hide of it. A stream hidden whole (KurrentDB: a
 * tombstone, a soft delete, stream metadata) is read as empty and reported by what hides it, as
 * `verify --all` and the API's /verify report it; one that nothing hides and shows no event is not there.
 */
async function readStreamOrFail(store: EventStore, settings: Settings, stream: string, sourceId?: string): Promise<StreamUpToUnreadable & { readonly hiding?: StreamHiding; readonly unchecked?: UncheckedHiding }> {
  // From the leader: a follower behind it (nodePreference=follower or random) would deny a stream written moments ago.
  const read = await readStreamUpToUnreadable(leaderReads(store), stream).catch(emptyWhenDeleted);
  const { hiding, unchecked } = await hidingOf(store, stream);
  if (read.events.length === 0 && read.unreadable === undefined && (hiding === undefined || hiddenFromStreamRead(hiding, undefined).length === 0)) {
    // Named as given: a backfill's source id ("SF-1042") is looked for under the stream of the UUID derived from it.
    const what = sourceId === undefined ? `stream ${stream}` : `opportunity ${sourceId} (stream ${stream})`;
    // Whether its settings hide it whole could not be asked: not said to be absent, nor checked (exit 3).
    if (unchecked) throw new CliError(`No event of ${what} can be read in ${storeWhere(settings)}: never written, deleted, or hidden from readers, which could not be told apart:`, EXIT.unavailable, [describeUncheckedHiding(unchecked)]);
    throw new CliError(`There is no ${what} in ${storeWhere(settings)}: never written, or deleted.`, EXIT.failed);
  }
  return { ...read, hiding, unchecked };
}

/** Whether the store holds no event of the stream (none written, or deleted), readable or not. */
async function isEmptyStream(store: EventStore, stream: string): Promise<boolean> {
  const { events, unreadable } = await readStreamUpToUnreadable(store, stream).catch(emptyWhenDeleted);
  return events.length === 0 && unreadable === undefined;
}

function emptyWhenDeleted(error: unknown): StreamUpToUnreadable {
  if (error instanceof StreamDeletedError) return { events: [] };
  throw error;
}

async function verifyLog(store: EventStore, settings: Settings, keptHead: LogHead | undefined, options: VerifyOptions): Promise<number> {
  // SQLite numbers events 1, 2, 3, … (AUTOINCREMENT, undone with a failed append): a gap is a
  // deletion. KurrentDB's positions are byte offsets: only a kept head shows a deletion there.
  const auditor = new LogAuditor({ densePositions: settings.eventStoreUrl === undefined, keptHead });
  // KurrentDB: events its readers no longer see ($tb, $maxCount, $maxAge, deletes) stay in $all
  // until a scavenge, so every chain read here holds; the streams' settings say what is hidden.
  // A user refused the streams' metadata (read on $$<stream>, which read on $all does not give):
  // the chains are still checked, and the check not made is named with the right it lacks (exit 3).
  let unchecked: UncheckedHiding | undefined;
  const hidings = await Promise.resolve(store.streamsHidingEvents?.()).catch((error: unknown) => {
    if (!(error instanceof EventStoreAccessDeniedError)) throw error;
    unchecked = uncheckedHiding(undefined, error.user);
    return [];
  });
  const hiddenStreams = new HiddenStreamsFinder(hidings ?? []);
  // The store's counter of positions, before the log is read: what it had numbered must still be there.
  const numberedBefore = (await store.highestPositionNumbered?.()) ?? 0;
  const progress = progressBar('verify', await store.headPosition(), 'positions');
  const unreadable: UnreadableEventError[] = [];
  const onUnreadable = (error: UnreadableEventError) => {
    unreadable.push(error);
    auditor.addUnreadable(error); // in its place: neither a deleted event nor a gap
    hiddenStreams.add(error);
  };
  for await (const page of readAllPages(store, { pageSize: PAGE, onUnreadable })) {
    for (const event of page) {
      auditor.add(event);
      hiddenStreams.add(event);
    }
    progress.update(page[page.length - 1]!.position);
  }
  progress.stop();
  // And after: events appended while the log was read stand below it.
  auditor.numbered({ before: numberedBefore, after: (await store.highestPositionNumbered?.()) ?? 0 });
  // Each broken stream named as `verify <id>` names it: read again by revision.
  const report = await withBreaksReadByRevision(store, auditor.report());
  const hidden = hiddenStreams.report();
  const ok = report.ok && unreadable.length === 0 && hidden.length === 0 && unchecked === undefined;
  const unread = unreadable.map(({ stream, revision, position, reason }) => ({ stream, revision, position, reason }));
  // The head to keep, as the text prints it: none from a broken log (keeping it would vouch for the
  // tampering), but one from a log only unverified (streams without hashes), which an auditor who
  // checked them keeps to vouch for them.
  // Nor from a log whose readers miss events it holds: keeping it would vouch for what they miss.
  // Nor while what hides events could not be checked.
  const keep = hasBreaks(report) || unreadable.length > 0 || hidden.length > 0 || unchecked !== undefined ? null : formatLogHead(report.head);
  if (options.json) console.log(JSON.stringify({ ...report, ok, unreadable: unread, hidden, ...(unchecked ? { unchecked: [unchecked] } : {}), keep }, null, 2));
  else console.log(describeLog(report, hidden, unchecked)); // an unreadable event is its stream's break (`unreadable`)
  if (ok) return EXIT.ok;
  // Nothing found, but a check not made: what a script must tell apart from tampering found (1).
  return unchecked !== undefined && !hasBreaks(report) && unreadable.length === 0 ? EXIT.unavailable : EXIT.failed;
}

/**
 * The audit with each broken stream's break found again in the stream read by revision, as
 * `verify <id>` reads it: the log in position order meets a moved event before the one it follows
 * and names a vaguer break, or one at another revision. Only the broken streams are read again.
 */
async function withBreaksReadByRevision(store: EventStore, audit: LogAudit): Promise<LogAudit> {
  const byRevision = new Map<string, ChainVerdict>();
  for (const { stream } of audit.broken) byRevision.set(stream, await streamVerdictByRevision(store, stream));
  return withBreaksByRevision(audit, byRevision);
}

/** One stream's chain read by revision from the leader, judged as `verify <id>` judges it (an event without a hash after the log was chained: stripped). */
async function streamVerdictByRevision(store: EventStore, stream: string): Promise<ChainVerdict> {
  const { events, unreadable } = await readStreamUpToUnreadable(leaderReads(store), stream).catch(emptyWhenDeleted);
  const hashless = lastHashlessPosition(events);
  return verifyStreamChain(events, stream, unreadable, hashless === undefined ? undefined : await new LogChainStart(store).chainedBefore(hashless));
}

function describeLog(report: LogAudit, hidden: readonly HiddenStream[], unchecked: UncheckedHiding | undefined): string {
  const lines: string[] = [];
  const scope = `${report.streams} stream(s), ${report.eventsRead} event(s), up to position ${report.head.position}`;
  const hiddenIn = new Set(hidden.map(({ stream }) => stream)).size;
  if (report.ok && hiddenIn === 0 && unchecked === undefined) lines.push(`Intact: ${scope}.`);
  else if (hasBreaks(report)) lines.push(`BROKEN: ${report.broken.length} of ${report.streams} stream(s) broken, ${report.logBreakCount} break(s) in the log; ${scope}.`);
  else if (hiddenIn > 0) lines.push(`ALTERED: ${hiddenIn} stream(s) have events their readers no longer see (stream metadata or a delete), though the log still holds them; ${scope}.`);
  else if (unchecked !== undefined) lines.push(`UNCHECKED: ${scope}: ${report.ok ? 'every chain holds' : `nothing vouches for ${report.uncoveredStreams} stream(s)`}, but one check could not be made.`);
  else lines.push(`UNVERIFIED: ${scope}, but nothing vouches for ${report.uncoveredStreams} stream(s).`);
  if (unchecked !== undefined) lines.push(describeUncheckedHiding(unchecked));
  for (const broken of report.broken) lines.push(describe(broken));
  for (const stream of hidden) lines.push(describeHiddenStream(stream));
  for (const logBreak of report.logBreaks) lines.push(`BROKEN: log at position ${logBreak.position}: ${logBreak.reason} — ${logBreak.detail}`);
  if (report.logBreakCount > report.logBreaks.length) lines.push(`  … and ${report.logBreakCount - report.logBreaks.length} more break(s) in the log.`);
  if (report.unchained > 0) {
    const vouched = report.uncoveredStreams === 0 ? 'each vouched for by a hashed event after it' : report.uncoveredVouchedByHead ? 'vouched for by the kept head' : `${report.uncoveredStreams} stream(s) hold only such events and nothing vouches for them (written before tamper evidence, or their hashes stripped): check them, then keep the head below and verify with --head`;
    lines.push(`  ${report.unchained} event(s) carry no hash; ${vouched}.`);
  }
  if (report.keptHead?.reproduced) {
    // The digest chains each event's stored hash and position: an event edited in place under its
    // old hash leaves it whole, and only the chain checks above find that.
    const what = hasBreaks(report) ? 'deleted, added, renumbered or cut (what was altered in place is listed above)' : 'deleted, added, altered or cut';
    lines.push(`  The log still reproduces the kept head ${formatLogHead(report.keptHead.head)}: nothing up to position ${report.keptHead.head.position} was ${what}.`);
  }
  if (!report.densePositions && !report.keptHead) lines.push('  This store does not number its events densely: a deleted stream shows only against a kept head (--head).');
  // No head to keep from a broken log, nor from one whose readers miss events: keeping it would vouch for the tampering.
  if (hasBreaks(report)) return lines.join('\n');
  if (hiddenIn > 0) {
    lines.push('  No head to keep while readers miss events the log still holds: keeping it would vouch for what they no longer see.');
    return lines.join('\n');
  }
  if (unchecked !== undefined) {
    lines.push('  No head to keep until every check can be made: keeping it would vouch for events readers may no longer see.');
    return lines.join('\n');
  }
  lines.push(`keep: ${formatLogHead(report.head)}`);
  lines.push('  (store this line somewhere the store cannot reach; `verify --all --head <it>` later proves nothing up to here was deleted, altered or cut from the end)');
  return lines.join('\n');
}

function hasBreaks(report: LogAudit): boolean {
  return report.broken.length > 0 || report.logBreakCount > 0;
}

/** A stream whose settings hide every event: its (empty) chain says nothing, what hides it says all. */
function isHiddenWhole(verdict: ChainVerdict, hidden: readonly HiddenStream[]): boolean {
  return verdict.ok && verdict.events === 0 && hidden.some(({ stream }) => stream === verdict.stream);
}

function describeOpportunity(report: OpportunityVerificationWithHidden): string {
  const lines: string[] = [];
  for (const verdict of [report.opportunity, report.process]) if (verdict && !isHiddenWhole(verdict, report.hidden)) lines.push(describe(verdict));
  // A version the deal ran on that the process stream no longer shows: its check not made, said so (the setting is named below).
  if (report.process?.ok && report.process.versionsDetail !== undefined) lines.push(`NOT CHECKED: ${report.process.stream}: ${report.process.versionsDetail}`);
  for (const hidden of report.hidden) lines.push(describeHiddenStream(hidden));
  for (const unchecked of report.unchecked ?? []) lines.push(describeUncheckedHiding(unchecked));
  lines.push(report.ok ? `Verified: opportunity ${report.opportunityId} and the process it was judged by.` : `NOT VERIFIED: opportunity ${report.opportunityId}.`);
  return lines.join('\n');
}

function describe(verdict: ChainVerdict): string {
  if (!verdict.ok) return `BROKEN: ${verdict.stream} at revision ${verdict.revision}: ${verdict.reason} — ${verdict.detail}`;
  const revisions = `${verdict.events} event(s), revisions ${verdict.firstRevision ?? 0}–${verdict.lastRevision ?? '-'}`;
  if (!verdict.unchainedCovered) {
    return `UNVERIFIED: ${verdict.stream}, ${revisions}: no event carries a hash (written before tamper evidence, or the hashes were stripped), so nothing vouches for them`;
  }
  const old = verdict.unchained > 0 ? `; ${verdict.unchained} event(s) predate tamper evidence, vouched for by the chain after them` : '';
  return `Intact: ${verdict.stream}, ${revisions}${old}\n  head hash ${verdict.headHash} (keep it: a later verify that ends elsewhere means events were removed from the end)`;
}
