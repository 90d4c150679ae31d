import { readStreamUpToUnreadable, StreamDeletedError, type EventStore, type StreamUpToUnreadable } from '@stagecraft/event-store';
import { compileProcess, toProcessStreamId, type CompiledProcess, type ProcessVersionRecordedData } from '@stagecraft/sales-process';

/**
 * Every recorded version of the processes an audit needs, read from the store itself (the
 * `sales-process-<id>` streams), not from PROCESSES_DIR: history is explained by the rules that
 * applied then.
 */
export class RecordedProcesses {
  private readonly versions = new Map<string, Map<string, CompiledProcess>>();
  private readonly lastRevisions = new Map<string, number>();

  constructor(private readonly store: Pick<EventStore, 'readStream'>) {}

  /**
   * Reads a process's recorded versions, as far as its stream reads. An opportunity's history is
   * its own stream's: a process stream deleted for good (a tombstone), or holding an event that
   * cannot be read back, only leaves the names of the versions it no longer gives out. What was
   * not read is answered, for the reader to be told (`verify <id>` says what happened to it).
   */
  async load(processId: string): Promise<string | undefined> {
    if (this.versions.has(processId)) return undefined;
    const stream = toProcessStreamId(processId);
    const byVersion = new Map<string, CompiledProcess>();
    this.versions.set(processId, byVersion);
    let read: StreamUpToUnreadable;
    try {
      read = await readStreamUpToUnreadable(this.store, stream);
    } catch (error) {
      if (error instanceof StreamDeletedError) return `${stream} was deleted from the event store (a tombstone)`;
      throw error;
    }
    const last = read.events.at(-1);
    if (last) this.lastRevisions.set(processId, last.revision);
    for (const event of read.events) {
      const data = event.data as unknown as ProcessVersionRecordedData;
      try {
        byVersion.set(data.version, compileProcess(data.definition));
      } catch {
        // A recorded definition this version cannot compile: names are then left out.
      }
    }
    return read.unreadable?.message;
  }

  /** The last revision of the process's stream that load read; undefined when it read none. */
  lastRevision(processId: string): number | undefined {
    return this.lastRevisions.get(processId);
  }

  version(processId: string, version: string): CompiledProcess | undefined {
    return this.versions.get(processId)?.get(version);
  }
}
