import 'reflect-metadata';
import { Global, Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { EVENT_STORE, type EventStore } from '@stagecraft/event-store';
import { EventStoreModule } from '../../api/src/event-store/event-store.module';
import { OpportunitiesModule } from '../../api/src/opportunities/opportunities.module';
import { OpportunityCommandExecutor } from '../../api/src/opportunities/opportunity-command.executor';
import { OpportunityStreams } from '../../api/src/opportunities/opportunity-streams.service';
import { ProcessRegistry } from '../../api/src/processes/process-registry.service';
import { API_SETTINGS, CLOCK, type Clock } from '../../api/src/settings/api-settings.token';
import type { ApiSettings } from '../../api/src/settings/api-settings';

@Global()
@Module({})
class CliSharedProvidersModule {}

/**
 * The API's command side without HTTP, authentication or projections: the same store, process
 * registry and command executor, so what the CLI writes obeys exactly the rules, idempotency and
 * event metadata of a command sent over HTTP.
 */
@Module({})
class CliCommandModule {
  static forRoot(settings: ApiSettings, clock: Clock): DynamicModule {
    const shared: DynamicModule = {
      module: CliSharedProvidersModule,
      global: true,
      providers: [
        { provide: API_SETTINGS, useValue: settings },
        { provide: CLOCK, useValue: clock },
      ],
      exports: [API_SETTINGS, CLOCK],
    };
    return { module: CliCommandModule, imports: [shared, CqrsModule.forRoot(), EventStoreModule.forRoot(settings), OpportunitiesModule] };
  }
}

export interface CommandSide {
  readonly executor: OpportunityCommandExecutor;
  readonly streams: OpportunityStreams;
  readonly processes: ProcessRegistry;
  readonly store: EventStore;
  close(): Promise<void>;
}

/** Boots the command side on the configured store; loading the processes records new versions, as the API's start does. */
export async function openCommandSide(settings: ApiSettings, clock: Clock = () => new Date()): Promise<CommandSide> {
  const app: INestApplicationContext = await NestFactory.createApplicationContext(CliCommandModule.forRoot(settings, clock), {
    logger: ['error'],
    abortOnError: false,
  });
  await app.init();
  return {
    executor: app.get(OpportunityCommandExecutor),
    streams: app.get(OpportunityStreams),
    processes: app.get(ProcessRegistry),
    store: app.get<EventStore>(EVENT_STORE),
    close: () => app.close(),
  };
}
