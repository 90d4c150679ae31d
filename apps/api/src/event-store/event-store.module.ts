import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_STORE, openEventStore, type EventStore } from '@stagecraft/event-store';
import type { Settings } from '@stagecraft/config';

@Global()
@Module({})
export class EventStoreModule implements OnApplicationShutdown {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  static forRoot(settings: Settings): DynamicModule {
    return {
      module: EventStoreModule,
      providers: [
        {
          provide: EVENT_STORE,
          useFactory: (): EventStore => openEventStore(settings, { appends: true }),
        },
      ],
      exports: [EVENT_STORE],
    };
  }

  // Pending group commits (SQLite) and appends in flight (KurrentDB) finish before the store
  // closes, so a graceful stop loses nothing.
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
