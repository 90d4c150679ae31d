import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@stagecraft/event-store';
import { ALL_PROJECTIONS, getSQLiteProjectionSnapshotStore, ProjectionRunner, type Projection, type ProjectionSnapshotStore } from '@stagecraft/projections';
import type { ApiSettings } from '../settings/api-settings';
import { AnalyticsController } from './analytics.controller';
import { ProjectionsAdminController } from './projections-admin.controller';
import { PROJECTION_RUNNER, PROJECTION_SNAPSHOTS } from './projections.token';

/** Runs the projections inside the API process: replay at start, then live. */
@Global()
@Module({})
export class ProjectionsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Projections');

  constructor(
    @Inject(PROJECTION_RUNNER) private readonly runner: ProjectionRunner,
    @Inject(PROJECTION_SNAPSHOTS) private readonly snapshots: ProjectionSnapshotStore,
  ) {}

  static forRoot(settings: ApiSettings): DynamicModule {
    return {
      module: ProjectionsModule,
      controllers: [AnalyticsController, ProjectionsAdminController],
      providers: [
        { provide: PROJECTION_SNAPSHOTS, useFactory: () => getSQLiteProjectionSnapshotStore(settings.readModelsPath) },
        {
          provide: PROJECTION_RUNNER,
          inject: [EVENT_STORE, PROJECTION_SNAPSHOTS],
          useFactory: (store: EventStore, snapshots: ProjectionSnapshotStore) => new ProjectionRunner(store, snapshots, ALL_PROJECTIONS as readonly Projection<unknown>[]),
        },
      ],
      exports: [PROJECTION_RUNNER],
    };
  }

  // Serving starts once the read models have caught up with the log (quick from a snapshot).
  async onApplicationBootstrap(): Promise<void> {
    this.runner.onFailure = (name, reason) => this.logger.error(`Projection ${name} stopped: ${reason}`);
    this.runner.onDiscardedSnapshot = (name, reason) => this.logger.warn(`Saved read model ${name} set aside (${reason}); rebuilding it from the log`);
    await this.runner.start();
  }

  // The last models are saved before their database closes.
  async onApplicationShutdown(): Promise<void> {
    await this.runner.stop();
    this.snapshots.close();
  }
}
