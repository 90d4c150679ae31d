import type { EventStore } from '@stagecraft/event-store';
import { OpportunityCommandExecutor } from './opportunity-command.executor';
import { OpportunityStreams } from './opportunity-streams';
import { ProcessRegistry } from './process-registry';
import { getSQLiteStreamSnapshotStore } from './stream-snapshots/sqlite-stream-snapshot.store';
import { NO_STREAM_SNAPSHOTS, type StreamSnapshotStore } from './stream-snapshots/stream-snapshot.store';

export interface CommandSideOptions {
  readonly processesDir: string;
  readonly conflictRetries: number;
  readonly streamCacheSize: number;
  /** Where folded snapshots of long streams are kept; none when absent. */
  readonly streamSnapshotsPath?: string;
  readonly onVersionRecorded?: (message: string) => void;
}

/** The command side on one store: what the API's handlers, the CLI's import and the bulk migration share. */
export interface CommandSide {
  readonly store: EventStore;
  readonly processes: ProcessRegistry;
  readonly streams: OpportunityStreams;
  readonly executor: OpportunityCommandExecutor;
  /** Close it when done (it writes behind). */
  readonly snapshots: StreamSnapshotStore;
}

/**
 * Wires the command side on a store and loads the process definitions (recording new versions,
 * as every start-up does). A bad definition throws ProcessDefinitionError naming file and field.
 */
export async function createCommandSide(store: EventStore, options: CommandSideOptions): Promise<CommandSide> {
  const processes = new ProcessRegistry(store, { processesDir: options.processesDir, ...(options.onVersionRecorded ? { onVersionRecorded: options.onVersionRecorded } : {}) });
  await processes.load();
  const snapshots = options.streamSnapshotsPath !== undefined ? getSQLiteStreamSnapshotStore(options.streamSnapshotsPath) : NO_STREAM_SNAPSHOTS;
  const streams = new OpportunityStreams(store, options.streamCacheSize, snapshots);
  const executor = new OpportunityCommandExecutor(store, streams, processes, { conflictRetries: options.conflictRetries });
  return { store, processes, streams, executor, snapshots };
}
