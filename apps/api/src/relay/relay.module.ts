import { Global, Inject, Logger, Module, type BeforeApplicationShutdown, type DynamicModule, type OnApplicationBootstrap } from '@nestjs/common';
import type { Settings } from '@stagecraft/config';
import { EVENT_STORE, type EventStore } from '@stagecraft/event-store';
import { openRelay, type Relay } from '@stagecraft/relay';
import { AsyncApiController } from './asyncapi.controller';
import { RELAY } from './relay.token';

/**
 * The public-event relay in the API process (the default when RELAY_SINKS is set). It follows the
 * log in the background: commands never wait for it, and a sink that is down only shows in /health.
 */
@Global()
@Module({})
export class RelayModule implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(RELAY) private readonly relay: Relay | null) {}

  static forRoot(settings: Settings): DynamicModule {
    return {
      module: RelayModule,
      controllers: [AsyncApiController],
      providers: [
        {
          provide: RELAY,
          inject: [EVENT_STORE],
          useFactory: (store: EventStore): Relay | null => {
            if (settings.relay.sinks.length === 0 || settings.relay.mode === 'external') return null;
            const logger = new Logger('Relay');
            return openRelay(store, settings.relay, (level, message) => (level === 'info' ? logger.log(message) : level === 'warn' ? logger.warn(message) : logger.error(message)));
          },
        },
      ],
      exports: [RELAY],
    };
  }

  onApplicationBootstrap(): void {
    this.relay?.start();
  }

  // Before the store closes (its own shutdown hook), so no read is cut off mid-batch.
  async beforeApplicationShutdown(): Promise<void> {
    await this.relay?.stop();
  }
}
