import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { ProjectionsModule } from './analytics/projections.module';
import { AuthModule } from './auth/auth.module';
import { CommandSideModule } from './command-side/command-side.module';
import { EventStoreModule } from './event-store/event-store.module';
import { HealthController } from './health/health.controller';
import { OpportunitiesModule } from './opportunities/opportunities.module';
import { ProcessesModule } from './processes/processes.module';
import { RelayModule } from './relay/relay.module';
import { API_SETTINGS, CLOCK, CURRENCY_RATES, type Clock } from './settings/api-settings.token';
import { loadCurrenciesFile, type Settings } from '@stagecraft/config';

export interface ApiModuleOptions {
  readonly settings: Settings;
  readonly clock?: Clock;
}

@Module({})
export class ApiModule {
  static forRoot({ settings, clock = () => new Date() }: ApiModuleOptions): DynamicModule {
    const shared = {
      module: SharedProvidersModule,
      global: true,
      providers: [
        { provide: API_SETTINGS, useValue: settings },
        { provide: CLOCK, useValue: clock },
        // Read and checked once at start-up: a bad file stops the service (file, field, reason).
        { provide: CURRENCY_RATES, useValue: loadCurrenciesFile(settings.currenciesFile.path, settings.currenciesFile.required) ?? null },
      ],
      exports: [API_SETTINGS, CLOCK, CURRENCY_RATES],
    };
    return {
      module: ApiModule,
      imports: [shared, AuthModule.forRoot(settings), CqrsModule.forRoot(), EventStoreModule.forRoot(settings), CommandSideModule, ProcessesModule, OpportunitiesModule, ProjectionsModule.forRoot(settings), RelayModule.forRoot(settings)],
      controllers: [HealthController],
    };
  }
}

@Module({})
class SharedProvidersModule {}
