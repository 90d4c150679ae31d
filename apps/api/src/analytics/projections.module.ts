import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@stagecraft/event-store';
import {
  ALL_PROJECTIONS,
  getSQLiteProjectionSnapshotStore,
  ProjectionRunner,
  SnapshotFollower,
  type Projection,
  type ProjectionSnapshotStore,
  type ReadModels,
} from '@stagecraft/projections';
import type { ApiSettings } from '../settings/api-settings';
import { AnalyticsController } from './analytics.controller';
import { ProjectionsAdminController } from './projections-admin.controller';
import { PROJECTION_SNAPSHOTS, READ_MODELS } from './projections.token';

/**
 * The read models behind the analytics: by default the projections run in this process (replay
 * at start, then live); with PROJECTIONS=external a separate projector keeps them and this API
 * serves what it saves.
 */
@Global()
@Module({})
export class ProjectionsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Projections');

  constructor(
    @Inject(READ_MODELS) private readonly readModels: ReadModels,
    @Inject(PROJECTION_SNAPSHOTS) private readonly snapshots: ProjectionSnapshotStore,
  ) {}

  static forRoot(settings: ApiSettings): DynamicModule {
    const projections = ALL_PROJECTIONS as readonly Projection<unknown>[];
    return {
      module: ProjectionsModule,
      controllers: [AnalyticsController, ProjectionsAdminController],
      providers: [
        { provide: PROJECTION_SNAPSHOTS, useFactory: () => getSQLiteProjectionSnapshotStore(settings.readModelsPath) },
        {
          provide: READ_MODELS,
          inject: [EVENT_STORE, PROJECTION_SNAPSHOTS],
          useFactory: (store: EventStore, snapshots: ProjectionSnapshotStore): ReadModels =>
            settings.projections === 'external'
              ? new SnapshotFollower(store, snapshots, projections.map((projection) => projection.name))
              : new ProjectionRunner(store, snapshots, projections),
        },
      ],
      exports: [READ_MODELS],
    };
  }

  // Serving starts once the read models have caught up with the log (quick from a snapshot).
  async onApplicationBootstrap(): Promise<void> {
    if (this.readModels instanceof ProjectionRunner) {
      this.readModels.onFailure = (name, reason) => this.logger.error(`Projection ${name} stopped: ${reason}`);
      this.readModels.onDiscardedSnapshot = (name, reason) => this.logger.warn(`Saved read model ${name} set aside (${reason}); rebuilding it from the log`);
      this.readModels.onSaveFailure = (error) => this.logger.error(`Read models could not be saved (${error.message}); they keep working, and a restart replays more of the log`);
    }
    await this.readModels.start();
  }

  // The last models are saved before their database closes.
  async onApplicationShutdown(): Promise<void> {
    await this.readModels.stop();
    await this.snapshots.close();
  }
}
