import { Global, Inject, Logger, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { getSQLiteStreamSnapshotStore, NO_STREAM_SNAPSHOTS, OpportunityCommandExecutor, OpportunityStreams, ProcessRegistry, type StreamSnapshotStore } from '@stagecraft/commands';

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
      provide: OpportunityStreams,
      inject: [EVENT_STORE, API_SETTINGS, STREAM_SNAPSHOTS],
      useFactory: (store: EventStore, settings: Settings, snapshots: StreamSnapshotStore) => new OpportunityStreams(store, settings.streamCacheSize, snapshots),
    },
    {
      provide: OpportunityCommandExecutor,
      inject: [EVENT_STORE, OpportunityStreams, ProcessRegistry, API_SETTINGS],
      useFactory: (store: EventStore, streams: OpportunityStreams, processes: ProcessRegistry, settings: Settings) =>
        new OpportunityCommandExecutor(store, streams, processes, { conflictRetries: settings.conflictRetries }),
    },
  ],
  exports: [ProcessRegistry, OpportunityStreams, OpportunityCommandExecutor],
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
