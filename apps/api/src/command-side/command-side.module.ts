import { Global, Inject, Logger, Module, type OnModuleInit } from '@nestjs/common';
import { OpportunityCommandExecutor, OpportunityStreams, ProcessRegistry } from '@stagecraft/commands';
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
      provide: OpportunityStreams,
      inject: [EVENT_STORE, API_SETTINGS],
      useFactory: (store: EventStore, settings: Settings) => new OpportunityStreams(store, settings.streamCacheSize),
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
export class CommandSideModule implements OnModuleInit {
  constructor(@Inject(ProcessRegistry) private readonly registry: ProcessRegistry) {}

  // Definitions load before the app listens: a bad file stops start-up with file, field and reason.
  async onModuleInit(): Promise<void> {
    await this.registry.load();
  }
}
