import type { EventStore } from '@stagecraft/event-store';
import { compileProcess, toProcessStreamId, type CompiledProcess, type ProcessVersionRecordedData } from '@stagecraft/sales-process';

/**
 * Every recorded version of the processes an audit needs, read from the store itself (the
 * `sales-process-<id>` streams), not from PROCESSES_DIR: history is explained by the rules that
 * applied then.
 */
export class RecordedProcesses {
  private readonly versions = new Map<string, Map<string, CompiledProcess>>();

  constructor(private readonly store: Pick<EventStore, 'readStream'>) {}

  async load(processId: string): Promise<void> {
    if (this.versions.has(processId)) return;
    const byVersion = new Map<string, CompiledProcess>();
    for (const event of await this.store.readStream(toProcessStreamId(processId))) {
      const data = event.data as unknown as ProcessVersionRecordedData;
      try {
        byVersion.set(data.version, compileProcess(data.definition));
      } catch {
        // A recorded definition this version cannot compile: names are then left out.
      }
    }
    this.versions.set(processId, byVersion);
  }

  version(processId: string, version: string): CompiledProcess | undefined {
    return this.versions.get(processId)?.get(version);
  }
}
