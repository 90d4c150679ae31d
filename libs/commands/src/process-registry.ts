import type { ProcessVersionInfo } from '@stagecraft/contracts';
import { relative } from 'node:path';
import { chainNewEvents, headHashOf, recordedDefinitionMismatch } from '@stagecraft/audit';
import { loadProcessDirectory } from '@stagecraft/config';
import { AppendTooLargeError, EventStoreAccessDeniedError, StreamDeletedError, StreamTruncatedError, WrongExpectedRevisionError, type EventStore, type StoredEvent, type StreamHiding } from '@stagecraft/event-store';
import type { ProcessVersionLookup } from '@stagecraft/opportunity';
import { compileProcess, PROCESS_VERSION_RECORDED, ProcessDefinitionError, toProcessStreamId, type CompiledProcess, type ProcessDefinition, type ProcessVersionRecordedData, type SourcePosition } from '@stagecraft/sales-process';
import { ProcessNotFoundError, ProcessVersionNotFoundError, StreamChainBrokenError } from './command.errors';
import { deterministicUuid } from './deterministic-uuid';

/** Start-ups racing with other files: each conflict means another instance recorded meanwhile. */
const START_UP_RECORDING_ATTEMPTS = 5;

interface ProcessEntry {
  current: CompiledProcess;
  /** Version → index of its latest recording in the stream: "newer" means recorded later. */
  recordedOrder: Map<string, number>;
  /** Every version ever recorded (opportunities keep the version they opened with), each as its last recording describes it. */
  versions: Map<string, { compiled: CompiledProcess; info: Omit<ProcessVersionInfo, 'current'> }>;
  /**
   * Recorded in the log but in no file of PROCESSES_DIR (its file was removed): its opportunities
   * go on under their recorded versions, but none opens on it and it is not listed.
   */
  retired?: boolean;
  /**
   * Versions whose recorded definition no longer hashes to the version (rewritten in the store,
   * its chain recomputed): no command is decided by the rules someone wrote there. Reads show
   * what is stored (`compiled`, when the definition written there still compiles).
   */
  tampered?: Map<string, { readonly revision: number; readonly detail: string; readonly compiled?: CompiledProcess }>;
}

export interface ProcessRegistryOptions {
  /** The folder of process definitions (PROCESSES_DIR). */
  readonly processesDir: string;
  /** Told when a new version is recorded (for the logs). */
  readonly onVersionRecorded?: (message: string) => void;
}

/**
 * Loads process definitions at start-up, records each new version in `sales-process-<id>`,
 * and serves any recorded version to the command handlers.
 */
export class ProcessRegistry {
  private readonly processes = new Map<string, ProcessEntry>();
  /** The process a file marks `default: true`, else the first file's. */
  private defaultId: string | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly options: ProcessRegistryOptions,
  ) {}

  /** Throws ProcessDefinitionError (file, field, reason) when a definition is bad: start-up stops. */
  async load(): Promise<void> {
    const files = loadProcessDirectory(this.options.processesDir);
    this.defaultId = (files.find((file) => file.isDefault) ?? files[0])?.definition.id;
    for (const { file, definition, positions } of files) {
      const compiled = compileProcess(definition);
      try {
        this.processes.set(definition.id, await this.recordedEntry(file, definition, compiled));
      } catch (error) {
        throw refusedByTheStore(error, file, positions.id) ?? error;
      }
    }
  }

  /**
   * The process's entry, its file's version recorded when the stream's latest recording is another.
   * Another instance starting at the same moment may record first: with the same file its event is
   * this one (same id, a retry to the store); with another file the append conflicts, and the
   * stream is read again and judged afresh, instead of stopping start-up on the race.
   */
  private async recordedEntry(file: string, definition: ProcessDefinition, compiled: CompiledProcess): Promise<ProcessEntry> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.tryRecordedEntry(file, definition, compiled);
      } catch (error) {
        if (!(error instanceof WrongExpectedRevisionError) || attempt >= START_UP_RECORDING_ATTEMPTS) throw error;
      }
    }
  }

  private async tryRecordedEntry(file: string, definition: ProcessDefinition, compiled: CompiledProcess): Promise<ProcessEntry> {
    const stream = toProcessStreamId(definition.id);
    // From the leader, where the append is checked: a follower behind it would have a start-up record
    // a version again, conflict on each attempt, or read back another recording than its own.
    const recorded = await this.store.readStream(stream, { fromLeader: true });
    // A stream cut before its first recording (KurrentDB: an operator's $tb or $maxCount) would be
    // taken as the whole history: versions deals were opened on unknown, the next one chained at a
    // revision the log does not hold. Refused, as an opportunity stream cut so is.
    if (recorded.length > 0 && recorded[0]!.revision !== 0) throw new StreamTruncatedError(stream, recorded[0]!.revision);
    // Settings that hide recordings from readers (KurrentDB: $tb, $maxCount, $maxAge, a soft
    // delete) are refused whatever they hide yet: $maxCount and $maxAge hide more with each version
    // and each day, and a stream hidden whole reads as never written, so its first version would be
    // recorded again (its id that of the hidden one: taken by the store for a retry) over the
    // versions deals were opened on.
    // A user without the right to read metadata skips the check, as an opening does.
    const hiding = await this.store.streamHiding?.(stream).catch(unlessAccessDenied);
    if (hiding !== undefined && !hiding.tombstoned) throw new ProcessStreamHiddenError(stream, hidingSettings(hiding));
    const entry: ProcessEntry = { current: compiled, recordedOrder: new Map(), versions: new Map() };
    for (const event of recorded) {
      const data = event.data as unknown as ProcessVersionRecordedData;
      entry.recordedOrder.set(data.version, event.revision);
      // The file's own version is decided by the file, whatever the store holds for it.
      if (data.version === compiled.version) entry.versions.set(data.version, { compiled, info: infoOf(event) });
      else recordVersion(entry, event);
    }
    const latestVersion = (recorded[recorded.length - 1]?.data as unknown as ProcessVersionRecordedData | undefined)?.version;
    if (latestVersion !== compiled.version) {
      const source = relative(process.cwd(), file) || file;
      const data: ProcessVersionRecordedData = { processId: definition.id, version: compiled.version, definition, source };
      // The event id comes from the stream's length and the version, so instances starting
      // together record a change once (the store sees the same id as a retry).
      const expectedRevision = recorded.length > 0 ? recorded[recorded.length - 1]!.revision : 'no_stream';
      // Chained like opportunity streams, so a rewritten definition is detected too.
      const { events } = chainNewEvents(stream, recorded.length, headHashOf(recorded), [
        { id: deterministicUuid('process-version', definition.id, recorded.length, compiled.version), type: PROCESS_VERSION_RECORDED, data: { ...data }, metadata: { actor: 'system:start-up', source } },
      ]);
      await this.store.appendToStream(stream, events, { expectedRevision });
      const again = await this.store.readStream(stream, { direction: 'backwards', maxCount: 1, fromLeader: true });
      entry.versions.set(compiled.version, { compiled, info: { version: compiled.version, recordedAt: again[0]!.recordedAt, source } });
      entry.recordedOrder.set(compiled.version, recorded.length);
      this.options.onVersionRecorded?.(`Process "${definition.id}" version ${compiled.version} recorded (from ${source})`);
    }
    return entry;
  }

  /**
   * Makes sure a version recorded after this instance started is known: another instance, or the
   * CLI's import, may have recorded it in the process stream since. Reads only what came after the
   * last recording known here; the current version (what new opportunities open with) stays the
   * one this instance's files define.
   */
  async ensureVersion(processId: string, version: string): Promise<void> {
    if (!this.mustReadVersion(processId, version)) return;
    const entry = this.processes.get(processId) ?? (await this.retiredEntry(processId));
    if (!entry) return; // never recorded: version() says there is no such process
    // The version is named by a deal, so it is recorded: a follower behind the leader may not show it yet.
    await this.readRecordingsAfterKnown(processId, entry, { fromLeader: true });
  }

  /**
   * Takes in the versions other instances recorded since this one started (the list `versions()`
   * gives would otherwise be this instance's start-up view, and two instances on one store would
   * answer it differently). A process this instance does not know is left to ensureVersion.
   */
  async catchUp(processId: string): Promise<void> {
    const entry = this.processes.get(processId);
    if (entry) await this.readRecordingsAfterKnown(processId, entry);
  }

  private async readRecordingsAfterKnown(processId: string, entry: ProcessEntry, leader: { readonly fromLeader?: boolean } = {}): Promise<void> {
    const known = Math.max(-1, ...entry.recordedOrder.values());
    for (const event of await this.store.readStream(toProcessStreamId(processId), { fromRevision: known + 1, ...leader })) takeRecording(entry, event);
  }

  /**
   * Whether ensureVersion has to read the process stream for this version: a version not known
   * yet, or a process no file defines (retired, when the log records it).
   */
  mustReadVersion(processId: string, version: string): boolean {
    const entry = this.processes.get(processId);
    return entry === undefined || !entry.versions.has(version);
  }

  /** The entry of a process the log records and no file defines, made from its stream; none when never recorded. */
  private async retiredEntry(processId: string): Promise<ProcessEntry | undefined> {
    const recorded = await this.store.readStream(toProcessStreamId(processId), { fromLeader: true });
    if (recorded.length === 0) return undefined;
    if (recorded[0]!.revision !== 0) throw new StreamTruncatedError(toProcessStreamId(processId), recorded[0]!.revision);
    const entry: ProcessEntry = { current: undefined as unknown as CompiledProcess, recordedOrder: new Map(), versions: new Map(), retired: true };
    for (const event of recorded) {
      const version = takeRecording(entry, event);
      entry.current = entry.versions.get(version)?.compiled ?? entry.current;
    }
    this.processes.set(processId, entry);
    this.options.onVersionRecorded?.(`Process "${processId}" has no file in PROCESSES_DIR any more: its opportunities go on under their recorded versions; none opens on it`);
    return entry;
  }

  /** Whether a process is known: defined in PROCESSES_DIR, or recorded in the log (a process retired since keeps its history). */
  async exists(processId: string): Promise<boolean> {
    if (this.processes.has(processId)) return true;
    // From the leader: a process another instance recorded moments ago is not on a lagging follower
    // yet, and a caller asking about it would be told it does not exist (only an unknown id comes here).
    return (await this.store.readStream(toProcessStreamId(processId), { maxCount: 1, fromLeader: true })).length > 0;
  }

  list(): CompiledProcess[] {
    return [...this.processes.values()].filter((entry) => !entry.retired).map((entry) => entry.current);
  }

  /** The main process: what a board opens on when the user has not chosen one. */
  defaultProcessId(): string | undefined {
    return this.defaultId;
  }

  /** The version new opportunities open with (none on a retired process). */
  current(processId: string): CompiledProcess {
    return this.entry(processId, { retired: false }).current;
  }

  /** A recorded version; an opportunity on a version no longer recorded means the store was tampered with. */
  version(processId: string, version: string): CompiledProcess {
    const entry = this.entry(processId);
    const found = entry.versions.get(version);
    if (!found) throw versionMissing(processId, version, entry);
    return found.compiled;
  }

  /** A recorded version as stored (versionAsStored), or undefined: for readers that can do without one, e.g. naming stages. */
  findVersion(processId: string, version: string): CompiledProcess | undefined {
    const entry = this.processes.get(processId);
    return entry && asStored(entry, version);
  }

  /**
   * A recorded version for a read of a deal on it: as version(), but a version set aside as
   * rewritten is shown by the definition stored for it. Reads serve what is stored, edited or not
   * (README, "For auditors"); only commands refuse it, and verify says what was rewritten.
   */
  versionAsStored(processId: string, version: string): CompiledProcess {
    const entry = this.entry(processId);
    const found = asStored(entry, version);
    if (!found) throw versionMissing(processId, version, entry);
    return found;
  }

  /** Every recorded version with the order it was last recorded in, for deciding migrations. */
  versionLookup(processId: string): ProcessVersionLookup {
    const entry = this.entry(processId);
    return (version) => {
      const found = entry.versions.get(version);
      if (!found && entry.tampered?.has(version)) throw versionMissing(processId, version, entry);
      return found ? { process: found.compiled, recordedOrder: entry.recordedOrder.get(version)! } : undefined;
    };
  }

  /**
   * Every recorded version in the order of its last recording, each with the time of it: a file
   * set back to an earlier version records that version again, and it comes last (the order a
   * migration counts as newer), not at the place of its first recording with a later time.
   */
  versions(processId: string): ProcessVersionInfo[] {
    const entry = this.entry(processId);
    const order = (version: string) => entry.recordedOrder.get(version) ?? -1;
    return [...entry.versions.values()]
      .sort((one, other) => order(one.info.version) - order(other.info.version))
      .map(({ info }) => ({ ...info, current: info.version === entry.current.version }));
  }

  private entry(processId: string, { retired = true }: { retired?: boolean } = {}): ProcessEntry {
    const entry = this.processes.get(processId);
    if (!entry || (entry.retired && !retired)) throw new ProcessNotFoundError(processId, this.list().map((process) => process.definition.id));
    return entry;
  }
}

/**
 * What the store's refusal to read or record a file's process means for that file, which start-up
 * then names (file, field, reason) in one line: a definition the validator takes (up to a 4 MiB
 * file) that is more than the store takes in one append (KurrentDB before 25.1: 1 MiB); a process
 * whose stream was deleted for good (KurrentDB's tombstone), where no version can be recorded or
 * read again under its id. Undefined for anything else.
 */
function refusedByTheStore(error: unknown, file: string, idAt: SourcePosition | undefined): ProcessDefinitionError | undefined {
  if (error instanceof AppendTooLargeError) {
    return new ProcessDefinitionError(file, [{ path: '', reason: `is too large to be recorded: ${error.message}; make the definition smaller (fewer or shorter criteria and descriptions)` }]);
  }
  if (error instanceof StreamTruncatedError) {
    const reason = `its versions are kept in the stream "${error.stream}", whose recordings before revision ${error.firstReadable} can no longer be read (truncated in the event store): deals opened on those versions could not be decided; restore the event store from a backup, or lift the truncation`;
    return new ProcessDefinitionError(file, [{ path: 'id', reason, ...(idAt ? { line: idAt.line, column: idAt.column } : {}) }]);
  }
  if (error instanceof ProcessStreamHiddenError) {
    const reason = `its versions are kept in the stream "${error.stream}", whose settings in the event store (${error.settings}) hide recordings from readers, now or as versions and days go by: deals opened on a hidden version could not be decided; remove those settings from the stream's metadata (a soft delete: restore the event store from a backup), or give the process another id`;
    return new ProcessDefinitionError(file, [{ path: 'id', reason, ...(idAt ? { line: idAt.line, column: idAt.column } : {}) }]);
  }
  if (error instanceof StreamDeletedError) {
    const reason = `its versions are kept in the stream "${error.stream}", which was deleted from the event store for good: none can be read or recorded there again; restore the event store from a backup, or give the process another id`;
    return new ProcessDefinitionError(file, [{ path: 'id', reason, ...(idAt ? { line: idAt.line, column: idAt.column } : {}) }]);
  }
  return undefined;
}

/** A process stream whose settings in the event store hide (or will hide) recordings from readers: start-up stops, naming them. */
class ProcessStreamHiddenError extends Error {
  constructor(
    readonly stream: string,
    /** The settings, as an operator finds them in the stream's metadata. */
    readonly settings: string,
  ) {
    super(`Stream "${stream}" has settings that hide its events from readers: ${settings}`);
    this.name = 'ProcessStreamHiddenError';
  }
}

function unlessAccessDenied(error: unknown): undefined {
  if (error instanceof EventStoreAccessDeniedError) return undefined;
  throw error;
}

function hidingSettings(hiding: StreamHiding): string {
  if (hiding.softDeleted) return 'a soft delete';
  const settings = [
    hiding.truncateBefore === undefined ? undefined : `$tb ${hiding.truncateBefore}`,
    hiding.maxCount === undefined ? undefined : `$maxCount ${hiding.maxCount}`,
    hiding.maxAgeSeconds === undefined ? undefined : `$maxAge ${hiding.maxAgeSeconds} s`,
  ];
  return settings.filter((setting) => setting !== undefined).join(', ');
}

function infoOf(event: StoredEvent): Omit<ProcessVersionInfo, 'current'> {
  const data = event.data as unknown as ProcessVersionRecordedData;
  return { version: data.version, recordedAt: event.recordedAt, source: data.source };
}

/**
 * Takes the next recording of a process stream in (the version's place in the order, its info);
 * a version recorded again (its file set back) is described by its last recording. Its version.
 */
function takeRecording(entry: ProcessEntry, event: StoredEvent): string {
  const data = event.data as unknown as ProcessVersionRecordedData;
  entry.recordedOrder.set(data.version, event.revision);
  const known = entry.versions.get(data.version);
  if (known) entry.versions.set(data.version, { compiled: known.compiled, info: infoOf(event) });
  else recordVersion(entry, event);
  return data.version;
}

/** A recorded version as stored: set aside as rewritten or not (reads show what is stored). */
function asStored(entry: ProcessEntry, version: string): CompiledProcess | undefined {
  return entry.versions.get(version)?.compiled ?? entry.tampered?.get(version)?.compiled;
}

/**
 * Takes a recorded version in, unless its definition no longer hashes to it, or (rewritten with
 * its hash recomputed) is no definition a machine can be built from: then it is kept aside as
 * tampered. Start-up reads every recording, so one such event must not stop the service.
 */
function recordVersion(entry: ProcessEntry, event: StoredEvent): void {
  const data = event.data as unknown as ProcessVersionRecordedData;
  const mismatch = recordedDefinitionMismatch(event);
  if (mismatch !== undefined) {
    (entry.tampered ??= new Map()).set(data.version, { revision: event.revision, detail: mismatch, ...compiledAsStored(data) });
    return;
  }
  let compiled: CompiledProcess;
  try {
    compiled = compileProcess(data.definition);
  } catch (error) {
    const detail = `the definition recorded as version ${data.version} cannot be compiled (${(error as Error).message}): it was rewritten after it was recorded, its hash recomputed`;
    (entry.tampered ??= new Map()).set(data.version, { revision: event.revision, detail });
    return;
  }
  entry.versions.set(data.version, { compiled, info: infoOf(event) });
}

/** A rewritten definition compiled for reads, when it still compiles (what was written there may be no definition at all). */
function compiledAsStored(data: ProcessVersionRecordedData): { compiled?: CompiledProcess } {
  try {
    return { compiled: compileProcess(data.definition) };
  } catch {
    return {};
  }
}

/** Why a version cannot be served: rewritten in the store, or never recorded. */
function versionMissing(processId: string, version: string, entry: ProcessEntry): Error {
  const tampered = entry.tampered?.get(version);
  return tampered ? new StreamChainBrokenError(toProcessStreamId(processId), tampered.revision, 'definition-mismatch', tampered.detail) : new ProcessVersionNotFoundError(processId, version);
}
