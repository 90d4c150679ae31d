import { randomUUID, createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { userInfo } from 'node:os';
import { canonicalJson } from '@stagecraft/sales-process';
import type { Settings } from '@stagecraft/config';
import { CommandSideError, OpportunityRejectedError, ProcessNotFoundError, RecordedEventsDifferError, type CommandEnvelope, type LoadedOpportunity } from '@stagecraft/commands';
import { EventStoreFullError, EventStoreUnavailableError } from '@stagecraft/event-store';
import { commandFieldFault, firstEventDifference, fromOpportunityStreamId, storedInstant, unchangingCommand, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import { openCommandSide, type CliCommandSide } from '../cli-context';
import { EXIT } from '../cli.errors';
import { storeWhere } from '../io/event-store';
import { isUuid, opportunityIdFor } from '../io/opportunity-id';
import { progressBar } from '../io/progress';
import { planBackfillRow, refusalReason, type PlannedCommand, type RepeatedClose } from '../import/backfill.plan';
import { refusedField } from '../import/refused-field';
import type { BackfillRow } from '../import/backfill.row';
import { commandForEvent, differenceReason, REPLAYED_AS, type EventCommand, type EventRecord, type SkippedRecord } from '../import/event-record';
import { openImportSource, type DealNamed, type ImportFormat, type ImportItem } from '../import/import-source';
import { printable } from '../io/printable';

/** Events read at a time, newest first, looking for the close a row repeats. */
const CLOSE_SEARCH_PAGE = 16;

export interface ImportOptions {
  readonly format?: ImportFormat;
  readonly json?: boolean;
  /** Opportunities worked on at once (each one's lines stay in order). */
  readonly concurrency?: number;
}

export interface RejectedLine {
  readonly line: number;
  readonly opportunity?: string;
  readonly reason: string;
}

export interface ImportReport {
  readonly file: string;
  /** The store imported into: the SQLite file, or the server EVENT_STORE_URL names. */
  readonly store: string;
  /**
   * No SQLite file was there: this import made a new store. Said, since an EVENT_STORE_PATH that is
   * unset (./data/events.db of wherever it runs), mistyped or another copy's would otherwise import
   * into a store the service never reads, and exit 0 as if into its own.
   */
  readonly storeCreated: boolean;
  readonly content: 'event-log' | 'backfill';
  readonly lines: number;
  /** Lines that appended events now. */
  readonly imported: number;
  /** Lines already imported before (re-running a file adds nothing) or with nothing new to record. */
  readonly unchanged: number;
  /** Lines deliberately not replayed: process version records and opening key claims (this store writes its own). */
  readonly skipped: number;
  /** Of those, how many of each. */
  readonly skippedBy: { readonly processVersions: number; readonly keyClaims: number };
  readonly rejected: readonly RejectedLine[];
  readonly eventsAppended: number;
  /** Backfill ids that were not UUIDs and the opportunity ids they were given. */
  readonly mappedIds: Readonly<Record<string, string>>;
  /** Why the file could not be read on (a CSV quote never closed): the counts are of the lines before. */
  readonly stopped?: string;
}

/** A backfill row's key (rowKeyOf), and for a repeat the key of the content's first row. */
interface RowKey {
  readonly key: string;
  readonly first: string | undefined;
}

type Outcome =
  | { readonly result: 'imported'; readonly events: number }
  | { readonly result: 'unchanged' }
  | { readonly result: 'skipped'; readonly what: SkippedRecord }
  | { readonly result: 'rejected'; readonly reason: string };

/**
 * `stagecraft import <file>`: replays an exported log, or backfills historical opportunities from
 * CSV, through the API's own command executor. Idempotent: every command id is derived from the
 * input (the exported event's id, or the row's content), so a re-run appends nothing.
 */
export async function importFile(settings: Settings, file: string, options: ImportOptions = {}): Promise<number> {
  const source = await openImportSource(file, options.format);
  const store = { store: storeWhere(settings), storeCreated: settings.eventStoreUrl === undefined && !existsSync(settings.eventStorePath) };
  let side: CliCommandSide;
  try {
    side = await openCommandSide(settings);
  } catch (error) {
    source.close();
    throw error;
  }
  const importer = new Importer(side, file);
  const progress = progressBar('import', source.size, 'bytes');
  let stopped: string | undefined;
  try {
    const concurrency = options.concurrency ?? 16;
    const pending = new Set<Promise<void>>();
    const tails = new Map<string, Promise<void>>();
    try {
      for await (const item of source.items()) {
        if (importer.storeLost) break; // the lines after it wait for a run that can reach the store
        const key = importer.keyOf(item);
        // Lines of one opportunity run in file order; different opportunities run side by side, so
        // the store's group commit writes many of them per transaction.
        const next = (tails.get(key) ?? Promise.resolve()).then(() => importer.handle(item));
        tails.set(key, next);
        pending.add(next);
        void next.finally(() => {
          pending.delete(next);
          if (tails.get(key) === next) tails.delete(key);
        });
        if (pending.size >= concurrency) await Promise.race(pending);
        progress.update(source.bytesRead());
      }
    } catch (error) {
      // Reading the file failed (a line's own errors are rejections, caught by handle): what was
      // read is finished and reported, not abandoned mid-way.
      stopped = (error as Error).message;
    }
    await Promise.all(pending);
    progress.update(source.size);
    progress.stop();
  } finally {
    source.close();
    await side.close();
  }
  const report = { ...importer.report(source.content, store), ...(stopped !== undefined ? { stopped } : {}) };
  console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
  if (importer.storeLost) {
    const when = importer.storeLost instanceof EventStoreFullError ? 'once space is freed on its disk' : 'once the store answers';
    console.error(`stagecraft: the import stopped: ${importer.storeLost.message}. What was imported before is reported above; run it again ${when} (lines already imported are skipped).`);
    return EXIT.unavailable;
  }
  if (stopped !== undefined) {
    console.error(`stagecraft: the import stopped: ${stopped}. The lines before it are imported as reported; fix the file and run it again (lines already imported are skipped).`);
    return EXIT.failed;
  }
  return report.rejected.length > 0 ? EXIT.failed : EXIT.ok;
}

class Importer {
  private readonly runId = randomUUID();
  private readonly actor = `cli:${safeUserName()}`;
  private readonly counts = { lines: 0, imported: 0, unchanged: 0, skipped: 0, events: 0 };
  private readonly skippedBy: Record<SkippedRecord, number> = { processVersions: 0, keyClaims: 0 };
  private readonly rejected: RejectedLine[] = [];
  private readonly mappedIds = new Map<string, string>();
  /** Opportunities with a rejected line, and that line: what follows it is not imported either. */
  private readonly brokenAt = new Map<string, number>();
  /** How often each backfill row's content has come so far: see rowKeyOf. */
  private readonly rowRepeats = new Map<string, number>();
  /**
   * The store could not be reached, read or written (its disk full): the import stops, and a line it stopped on is neither
   * imported nor rejected (nothing is wrong with it; a later run imports it).
   */
  storeLost: EventStoreUnavailableError | EventStoreFullError | undefined;

  constructor(
    private readonly side: CliCommandSide,
    private readonly file: string,
  ) {}

  /**
   * The deal a line is about, as one key whatever capitals its UUID is written in (they name one
   * deal everywhere): its lines run in file order, and a rejected one stops the rest. Keyed by the
   * id as written, `6F25…` and `6f25…` ran side by side, a move before its opening.
   */
  keyOf(item: ImportItem): string {
    const named = dealOf(item);
    if (named === undefined) return `line:${item.line}`;
    if ('stream' in named) {
      const id = fromOpportunityStreamId(named.stream);
      return id !== undefined && isUuid(id) ? `deal:${id.toLowerCase()}` : named.stream;
    }
    // A source id is keyed as the deal it maps to: `SF-9` and the UUID the report maps it to are one deal.
    return `deal:${opportunityIdFor(named.opportunityId)}`;
  }

  async handle(item: ImportItem): Promise<void> {
    if (this.storeLost) return;
    this.counts.lines += 1;
    // A line that cannot be read is a step of the deal it names too (a cell past its rule, a broken
    // quote after the id): rejected, it rejects the deal's later lines, which run after it.
    const named = dealOf(item);
    const opportunity = named === undefined ? undefined : 'stream' in named ? named.stream : named.opportunityId;
    const deal = opportunity === undefined ? undefined : this.keyOf(item);
    let outcome: Outcome;
    const broken = deal === undefined ? undefined : this.brokenAt.get(deal);
    try {
      if (item.kind === 'unreadable') outcome = { result: 'rejected', reason: item.reason };
      // History is a sequence: after a refused step, the later ones would tell a different story.
      else if (broken !== undefined) outcome = { result: 'rejected', reason: `follows line ${broken}, which was rejected, of the same opportunity` };
      else outcome = item.kind === 'event' ? await this.importEvent(item.record) : await this.importRow(item.row, this.rowKeyOf(item.row));
    } catch (error) {
      if (error instanceof EventStoreUnavailableError || error instanceof EventStoreFullError) {
        this.storeLost ??= error;
        this.counts.lines -= 1;
        return;
      }
      outcome = { result: 'rejected', reason: reasonOf(error) };
    }
    if (outcome.result === 'rejected') {
      this.rejected.push({ line: item.line, ...(opportunity !== undefined ? { opportunity } : {}), reason: outcome.reason });
      if (deal !== undefined && broken === undefined) this.brokenAt.set(deal, item.line);
    } else if (outcome.result === 'imported') {
      this.counts.imported += 1;
      this.counts.events += outcome.events;
    } else if (outcome.result === 'skipped') {
      this.counts.skipped += 1;
      this.skippedBy[outcome.what] += 1;
    } else {
      this.counts.unchanged += 1;
    }
  }

  report(content: ImportReport['content'], into: Pick<ImportReport, 'store' | 'storeCreated'>): ImportReport {
    return {
      file: this.file,
      ...into,
      content,
      lines: this.counts.lines,
      imported: this.counts.imported,
      unchanged: this.counts.unchanged,
      skipped: this.counts.skipped,
      skippedBy: { ...this.skippedBy },
      rejected: [...this.rejected].sort((a, b) => a.line - b.line),
      eventsAppended: this.counts.events,
      mappedIds: Object.fromEntries(this.mappedIds),
    };
  }

  private async importEvent(record: EventRecord): Promise<Outcome> {
    const command = commandForEvent(record);
    if (command.kind === 'skip') return { result: 'skipped', what: command.what };
    if (command.kind === 'reject') return { result: 'rejected', reason: command.reason };
    const commandId = `import:${record.id}`;
    let loaded = await this.side.streams.load(command.opportunityId);
    // A follower behind the leader (EventStore.readsMayLag) may show the stream short of this line:
    // the leader says whether the events before it are there.
    if (record.revision > nextRevisionOf(loaded) && this.side.store.readsMayLag?.() === true) loaded = await this.side.streams.load(command.opportunityId, { fromLeader: true });
    // One command makes one event, so an imported event lands at the revision it had. A store that
    // already holds that revision holds this very event (the export's own store, or an earlier
    // import), or another history, which must not be mixed with this one. This very event, and
    // the line says the same: a line edited since it was imported is refused, not called unchanged.
    const head = loaded.revision === 'no_stream' ? -1 : loaded.revision;
    if (record.revision <= head) {
      // From the leader: the fold says the event is there, which a follower behind it may not show yet.
      const [there] = await this.side.store.readStream(loaded.stream, { fromRevision: record.revision, maxCount: 1, fromLeader: true });
      if (!there || !isSameEvent(there, record)) return { result: 'rejected', reason: `this store already holds another event at revision ${record.revision} of ${record.stream}` };
      const difference = firstEventDifference([record], [there as unknown as OpportunityEvent]);
      return difference === undefined ? { result: 'unchanged' } : { result: 'rejected', reason: differenceReason(difference, 'this store holds') };
    }
    // Its event landed at a revision the store holds, so not at this line's: the line repeats the id
    // of an event before it (a duplicated or hand-made line), and it is not in the store.
    const recorded = loaded.commands.get(commandId);
    if (recorded !== undefined) {
      return { result: 'rejected', reason: `id: event ${record.id} is recorded at revision ${recorded.revision} of ${record.stream} already, not at ${record.revision}: two lines give one event id` };
    }
    if (record.revision > head + 1) {
      return { result: 'rejected', reason: `revision ${record.revision} would follow revision ${head} here: the events between are not in the file` };
    }
    if (command.kind === 'command' && command.processVersion !== undefined && command.body.type === 'OpenOpportunity') {
      const { processId } = command.body;
      const current = this.refusedAs(() => this.side.processes.current(processId), (code, message) => `data.processId: ${code}: ${message}`);
      if (current.version !== command.processVersion) {
        return {
          result: 'rejected',
          reason: `data.processVersion: opened on process "${processId}" version ${command.processVersion}, but PROCESSES_DIR defines version ${current.version}: run the import again with PROCESSES_DIR holding that version (lines already imported are skipped)`,
        };
      }
    }
    let body: PlannedCommand;
    if (command.kind === 'no-change') {
      const made = await this.unchangingBody(command, loaded.state);
      if (typeof made === 'string') return { result: 'rejected', reason: made };
      body = made;
    } else body = command.body;
    // The events its command records must be the line's (mustRecord): decided, compared, and only
    // then appended, so an edited or corrupted line is refused whole rather than imported as other facts.
    const outcome = await this.refusedAs(
      () => this.side.executor.execute(body, { ...this.envelope(commandId, command.onBehalfOf), mustRecord: [{ type: record.type, data: record.data }] }),
      (code, message) => `${dataFieldOf(record.type, refusedField(code, body.type))}${code}: ${message}`,
    );
    if (outcome.replayed) return { result: 'unchanged' };
    return { result: 'imported', events: outcome.appended };
  }

  /**
   * A command that changes nothing on the deal as it stands here, of the type a NoChangeRecorded
   * names: sent keyed, it records that event again at its revision. Or why there is none.
   */
  private async unchangingBody(command: Extract<EventCommand, { kind: 'no-change' }>, state: OpportunityState): Promise<PlannedCommand | string> {
    if (state.status === 'none') return 'records a command that changed nothing on a deal not opened here';
    await this.side.processes.ensureVersion(state.processId, state.processVersion);
    const fields = unchangingCommand(command.commandType, state, this.side.processes.version(state.processId, state.processVersion));
    if (fields === undefined) {
      return `data.command: no ${command.commandType.slice(0, 64)} changes nothing on this deal here (${state.status === 'open' ? `open in ${state.stage}, ${state.criteriaMet.length} criteria met` : state.status}): the line does not follow the events before it`;
    }
    const body = { ...fields, opportunityId: command.opportunityId, occurredAt: command.occurredAt } as PlannedCommand;
    const fault = commandFieldFault(body);
    return fault === undefined ? body : `data.${fault.field}: ${fault.reason}`;
  }

  /**
   * What a row's command ids derive from: its content, so a re-run finds them, and which repeat of
   * that content in the file it is. The same row twice in a file (two details changes back and forth
   * on one day: 200, 300, 200) is two facts: keyed by content alone, the second would be taken for
   * the first already recorded and left out, in silence. Rows of one deal come here in file order.
   */
  private rowKeyOf(row: BackfillRow): RowKey {
    const { line: _line, ...content } = row;
    const contentKey = createHash('sha256').update(canonicalJson(content)).digest('base64url').slice(0, 22);
    const repeat = this.rowRepeats.get(contentKey) ?? 0;
    this.rowRepeats.set(contentKey, repeat + 1);
    // The first keeps the key content alone gave, so files imported before still re-run as unchanged.
    return { key: repeat === 0 ? contentKey : `${contentKey}.${repeat}`, first: repeat === 0 ? undefined : contentKey };
  }

  private async importRow(row: BackfillRow, { key: rowKey, first }: RowKey): Promise<Outcome> {
    const opportunityId = this.opportunityIdOf(row.opportunityId);
    const loaded = await this.side.streams.load(opportunityId);
    if (loaded.commands.has(`backfill:${rowKey}:final`)) return { result: 'unchanged' };
    const { state } = loaded;
    // A repeat is a later fact only where it can stand in business time. One dated before the deal's
    // latest event, its first occurrence recorded, is that line again out of its place (a duplicated
    // export line): counted unchanged, as before repeats were keyed. Planned, business time going
    // backwards refused it and every row of the deal after it, also on the re-run of a file an
    // earlier version had imported whole.
    if (first !== undefined && state.status !== 'none' && loaded.commands.has(`backfill:${first}:final`) && storedInstant(row.occurredAt) < storedInstant(state.lastOccurredAt)) {
      return { result: 'unchanged' };
    }
    if (state.status === 'none' && !row.processId) return { result: 'rejected', reason: 'processId: is required on the first row of an opportunity' };
    // The deal's version may be one the registry has not read: of a process retired since (its file
    // removed), or recorded by an API since this run started. Its deals go on, as over HTTP.
    if (state.status !== 'none') await this.side.processes.ensureVersion(state.processId, state.processVersion);
    const process = state.status === 'none' ? this.refusedAs(() => this.side.processes.current(row.processId!), (code, message) => `processId: ${code}: ${message}`) : this.side.processes.version(state.processId, state.processVersion);
    const now = new Date().toISOString();
    const plan = planBackfillRow(row, opportunityId, state, process, now, await this.closeRepeated(row, loaded));
    if (!plan.ok) return { result: 'rejected', reason: plan.reason };
    if (plan.steps.length === 0) return { result: 'unchanged' };
    // A step another run of the same file (side by side with this one) recorded since the plan was
    // made is replayed, not appended: counted here, the two reports would claim its events twice.
    // A step counts the events it appended: an opening with an expected close date records two.
    let appended = 0;
    for (const [index, step] of plan.steps.entries()) {
      const name = index === plan.steps.length - 1 ? 'final' : step.name;
      appended += (await this.refusedAs(() => this.side.executor.execute(step.body, this.envelope(`backfill:${rowKey}:${name}`)), (code, message) => refusalReason(step.body.type, code, message))).appended;
    }
    return appended === 0 ? { result: 'unchanged' } : { result: 'imported', events: appended };
  }

  /**
   * What the close a row repeats recorded that the state does not keep (its note), read from the
   * deal's latest close; nothing when the row closes nothing, or not the way the deal stands.
   */
  private async closeRepeated(row: BackfillRow, loaded: LoadedOpportunity): Promise<RepeatedClose | undefined> {
    if (row.outcome === undefined || row.outcome !== loaded.state.status) return undefined;
    const closeType = row.outcome === 'won' ? 'OpportunityWon' : 'OpportunityLost';
    // Pages back from the head: events that change nothing may follow a close (NoChangeRecorded).
    for (let from: number | undefined; from === undefined || from >= 0; ) {
      // From the leader: the fold says the deal is closed, which a follower behind it may not show yet.
      const page = await this.side.store.readStream(loaded.stream, { direction: 'backwards', maxCount: CLOSE_SEARCH_PAGE, fromLeader: true, ...(from === undefined ? {} : { fromRevision: from }) });
      const close = page.find((event) => event.type === closeType);
      if (close) return { note: typeof close.data.note === 'string' ? close.data.note : undefined };
      if (page.length < CLOSE_SEARCH_PAGE) break;
      from = page.at(-1)!.revision - 1;
    }
    return undefined;
  }

  /**
   * Runs `work`; a refusal by the process's rules (or of an unknown process) it meets becomes a
   * LineRefusal whose reason names the column or field at fault, as `reason` words it.
   */
  private refusedAs<T>(work: () => T, reason: (code: string, message: string) => string): T {
    const refused = (error: unknown): never => {
      if (error instanceof OpportunityRejectedError) throw new LineRefusal(reason(error.rejection.code, error.rejection.message));
      if (error instanceof ProcessNotFoundError) throw new LineRefusal(reason(error.code, error.message));
      throw error;
    };
    try {
      const result = work();
      return (result instanceof Promise ? result.catch(refused) : result) as T;
    } catch (error) {
      return refused(error);
    }
  }

  private opportunityIdOf(sourceId: string): string {
    const id = opportunityIdFor(sourceId);
    if (!isUuid(sourceId)) this.mappedIds.set(sourceId, id);
    return id;
  }

  private envelope(commandId: string, onBehalfOf?: string): CommandEnvelope {
    return {
      commandId,
      clientSuppliedId: true,
      correlationId: `import:${this.runId}`,
      actor: this.actor,
      ...(onBehalfOf !== undefined && onBehalfOf !== this.actor ? { onBehalfOf } : {}),
      authenticatedBy: 'cli:store-file-access',
      now: new Date().toISOString(),
    };
  }
}

/** The deal a line is about, as the line writes it: an export's stream, or a backfill's opportunity id. */
function dealOf(item: ImportItem): DealNamed | undefined {
  if (item.kind === 'event') return { stream: item.record.stream };
  if (item.kind === 'row') return { opportunityId: item.row.opportunityId };
  return item.deal;
}

/** A line refused with its reason already worded (naming the column or field at fault). */
class LineRefusal extends Error {}

/**
 * The data field of an exported event that gives a command's field, as a reason leads with it; the
 * line's `type` where the event itself is refused there (a win from a stage not in winFrom).
 */
function dataFieldOf(type: string, field: string | undefined): string {
  if (field === undefined) return 'type: ';
  if (field === 'occurredAt') return 'data.occurredAt: ';
  const fields = (REPLAYED_AS as Record<string, { fields: Record<string, string> } | undefined>)[type]?.fields ?? {};
  const dataField = Object.entries(fields).find(([, commandField]) => commandField === field)?.[0];
  return dataField === undefined ? 'type: ' : `data.${dataField}: `;
}

function reasonOf(error: unknown): string {
  if (error instanceof LineRefusal) return error.message;
  if (error instanceof RecordedEventsDifferError) return differenceReason(error.difference);
  if (error instanceof OpportunityRejectedError) return `${error.rejection.code}: ${error.rejection.message}`;
  if (error instanceof CommandSideError) return `${error.code}: ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

function safeUserName(): string {
  try {
    return userInfo().username || 'unknown';
  } catch {
    return 'unknown';
  }
}

function formatReport(report: ImportReport): string {
  const lines = [
    `Imported ${report.file} (${report.content === 'event-log' ? 'exported event log' : 'backfill rows'}) into ${report.store}: ${report.lines} line(s)`,
    ...(report.storeCreated ? [`  ${report.store} did not exist: this import made a new store there (EVENT_STORE_PATH). If the service's store is another file, set EVENT_STORE_PATH to it and import again.`] : []),
    `  imported:  ${report.imported} (${report.eventsAppended} event(s) appended)`,
    `  unchanged: ${report.unchanged} (already imported, or nothing new to record)`,
  ];
  if (report.content === 'event-log') {
    const { processVersions, keyClaims } = report.skippedBy;
    lines.push(`  skipped:   ${report.skipped} (${processVersions} process version record(s) and ${keyClaims} opening key claim(s): this store writes its own)`);
  }
  lines.push(`  rejected:  ${report.rejected.length}`);
  for (const rejected of report.rejected) {
    lines.push(`    line ${rejected.line}${rejected.opportunity ? ` (${rejected.opportunity})` : ''}: ${rejected.reason}`);
  }
  if (report.stopped !== undefined) lines.push(`  stopped:   ${report.stopped} (the lines after it were not read)`);
  const mapped = Object.entries(report.mappedIds);
  if (mapped.length > 0) lines.push(`  ${mapped.length} source id(s) are not UUIDs and were given derived opportunity ids (see --json for the map)`);
  // The file's name, its ids and the reasons quote what the file held: each line escaped (io/printable.ts).
  return lines.map(printable).join('\n');
}

/**
 * Whether the stored event and the file's are one event, possibly copied by imports: the same id,
 * one imported from the other (an import's command id is `import:<original id>`), or both imported
 * from the same original — so a store's export imported into a copy, and the copy's export
 * imported back, appends nothing and rejects nothing.
 */
function isSameEvent(there: { id: string; metadata: Readonly<Record<string, unknown>> }, record: { id: string; metadata: Readonly<Record<string, unknown>> }): boolean {
  const importedFrom = (metadata: Readonly<Record<string, unknown>>) => (typeof metadata.commandId === 'string' && metadata.commandId.startsWith('import:') ? metadata.commandId.slice('import:'.length) : undefined);
  const originOf = (event: typeof there) => importedFrom(event.metadata) ?? event.id;
  return there.id === record.id || originOf(there) === originOf(record);
}

/** The revision the next event of a folded stream takes. */
function nextRevisionOf(loaded: LoadedOpportunity): number {
  return loaded.revision === 'no_stream' ? 0 : loaded.revision + 1;
}
