import { Global, Inject, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_STORE, getSQLiteEventStore, type EventStore } from '@stagecraft/event-store';
import type { ApiSettings } from '../settings/api-settings';

@Global()
@Module({})
export class EventStoreModule implements OnApplicationShutdown {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  static forRoot(settings: ApiSettings): DynamicModule {
    return {
      module: EventStoreModule,
      providers: [
        {
          provide: EVENT_STORE,
          useFactory: (): EventStore => getSQLiteEventStore({ path: settings.eventStorePath, durability: settings.durability }),
        },
      ],
      exports: [EVENT_STORE],
    };
  }

  // Pending group commits are flushed before the database closes, so a graceful stop loses nothing.
  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
