import { Global, Inject, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { getSQLiteStreamSnapshotStore, LogChainStart, NO_STREAM_SNAPSHOTS, OpportunityCommandExecutor, OpportunityStreams, ProcessRegistry, type StreamSnapshotStore } from '@stagecraft/commands';

/** DI token of the store of folded stream snapshots. */
export const STREAM_SNAPSHOTS = Symbol('STREAM_SNAPSHOTS');
import type { Settings } from '@stagecraft/config';
import { EVENT_STORE, type EventStore } from '@stagecraft/event-store';
import { API_SETTINGS } from '../settings/api-settings.token';

/**
 * The command side of libs/commands, provided to Nest: the process registry, the stream cache
 * and the one command executor. Nothing here decides; it only wires.
 */
@Global()
@Module({
  providers: [
    {
      provide: ProcessRegistry,
      inject: [EVENT_STORE, API_SETTINGS],
      useFactory: (store: EventStore, settings: Settings) => {
        const logger = new Logger('ProcessRegistry');
        return new ProcessRegistry(store, { processesDir: settings.processesDir, onVersionRecorded: (message) => logger.log(message) });
      },
    },
    {
      provide: STREAM_SNAPSHOTS,
      inject: [API_SETTINGS],
      useFactory: (settings: Settings): StreamSnapshotStore =>
        settings.streamSnapshotsPath !== undefined ? getSQLiteStreamSnapshotStore(settings.streamSnapshotsPath) : NO_STREAM_SNAPSHOTS,
    },
    {
      // One for the command side and /verify: what it learns of the log is learnt once.
      provide: LogChainStart,
      inject: [EVENT_STORE],
      useFactory: (store: EventStore) => new LogChainStart(store),
    },
    {
      provide: OpportunityStreams,
      inject: [EVENT_STORE, API_SETTINGS, STREAM_SNAPSHOTS, LogChainStart],
      useFactory: (store: EventStore, settings: Settings, snapshots: StreamSnapshotStore, chainStart: LogChainStart) => new OpportunityStreams(store, settings.streamCacheSize, snapshots, chainStart),
    },
    {
      provide: OpportunityCommandExecutor,
      inject: [EVENT_STORE, OpportunityStreams, ProcessRegistry, API_SETTINGS],
      useFactory: (store: EventStore, streams: OpportunityStreams, processes: ProcessRegistry, settings: Settings) =>
        new OpportunityCommandExecutor(store, streams, processes, { conflictRetries: settings.conflictRetries }),
    },
  ],
  exports: [ProcessRegistry, OpportunityStreams, OpportunityCommandExecutor, LogChainStart],
})
export class CommandSideModule implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(ProcessRegistry) private readonly registry: ProcessRegistry,
    @Inject(STREAM_SNAPSHOTS) private readonly snapshots: StreamSnapshotStore,
  ) {}

  onApplicationShutdown(): void {
    this.snapshots.close();
  }

  // Definitions load before the app listens: a bad file stops start-up with file, field and reason.
  async onModuleInit(): Promise<void> {
    await this.registry.load();
  }
}
