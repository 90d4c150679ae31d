import { Global, Inject, Logger, Module, type DynamicModule, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@stagecraft/event-store';
import {
  ALL_PROJECTIONS,
  ANALYTICS_QUERIES,
  createReadSidePool,
  getSQLiteProjectionSnapshotStore,
  inMemoryAnalyticsQueries,
  PostgresAnalyticsQueries,
  PostgresProjector,
  PostgresReadSideFollower,
  ProjectionRunner,
  SnapshotFollower,
  type Projection,
  type ProjectionSnapshotStore,
  type ReadModels,
} from '@stagecraft/projections';
import { readSideStartFailure, type Settings } from '@stagecraft/config';
import type { Pool } from 'pg';
import { AnalyticsController } from './analytics.controller';
import { ProjectionsAdminController } from './projections-admin.controller';
import { PROJECTION_SNAPSHOTS, READ_MODELS } from './projections.token';

/**
 * The read models behind the analytics: by default the projections run in this process (replay
 * at start, then live); with PROJECTIONS=external a separate projector keeps them and this API
 * serves what it saves. With READ_MODELS_URL they live in PostgreSQL instead of memory, and the
 * analytics are answered by SQL (this process then keeps no model).
 */
@Global()
@Module({})
export class ProjectionsModule implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Projections');

  constructor(
    @Inject(READ_MODELS) private readonly readModels: ReadModels,
    @Inject(PROJECTION_SNAPSHOTS) private readonly snapshots: { close(): void | Promise<void> },
  ) {}

  static forRoot(settings: Settings): DynamicModule {
    const projections = ALL_PROJECTIONS as readonly Projection<unknown>[];
    const postgres = settings.readModelsPostgres;
    const providers = postgres
      ? [
          // In PostgreSQL mode this token holds the pool (closed on shutdown), not a snapshot file.
          { provide: PROJECTION_SNAPSHOTS, useFactory: () => { const pool = createReadSidePool(postgres); return Object.assign(pool, { close: () => pool.end() }); } },
          {
            provide: READ_MODELS,
            inject: [EVENT_STORE, PROJECTION_SNAPSHOTS],
            useFactory: (store: EventStore, pool: Pool): ReadModels =>
              settings.projections === 'external'
                ? new PostgresReadSideFollower(store, pool, postgres.schema)
                : new PostgresProjector(store, postgres, {
                    // Start-up waits for it: said, rather than a silent pause with nothing listening.
                    onWaitingForLock: () => new Logger('Projections').warn(`Another projector holds the read models in schema ${postgres.schema}; this instance waits for it to stop before it starts (or set PROJECTIONS=external to serve them from there).`),
                    onReset: (reason) => new Logger('Projections').warn(reason),
                    onStall: (message) => new Logger('Projections').warn(message),
                  }),
          },
          {
            provide: ANALYTICS_QUERIES,
            inject: [READ_MODELS, PROJECTION_SNAPSHOTS],
            useFactory: (readModels: ReadModels, pool: Pool) => new PostgresAnalyticsQueries(pool, postgres.schema, readModels),
          },
        ]
      : [
          {
            provide: PROJECTION_SNAPSHOTS,
            useFactory: () =>
              getSQLiteProjectionSnapshotStore(settings.readModelsPath, {
                // A damaged file is set aside and rebuilt by whoever keeps the models: this process, or the projector.
                onSetAside: settings.projections === 'external' ? false : (message) => new Logger('Projections').warn(message),
              }),
          },
          {
            provide: READ_MODELS,
            inject: [EVENT_STORE, PROJECTION_SNAPSHOTS],
            useFactory: (store: EventStore, snapshots: ProjectionSnapshotStore): ReadModels =>
              settings.projections === 'external'
                ? new SnapshotFollower(store, snapshots, projections)
                : new ProjectionRunner(store, snapshots, projections, { savedIn: `${settings.readModelsPath} (READ_MODELS_PATH)` }),
          },
          { provide: ANALYTICS_QUERIES, inject: [READ_MODELS], useFactory: (readModels: ReadModels) => inMemoryAnalyticsQueries(readModels) },
        ];
    return {
      module: ProjectionsModule,
      // Global: GET /opportunities/:id shows the learned win probability from the same queries.
      global: true,
      controllers: [AnalyticsController, ProjectionsAdminController],
      providers,
      exports: [READ_MODELS, ANALYTICS_QUERIES],
    };
  }

  // Serving starts once the read models have caught up with the log (quick from a snapshot).
  async onApplicationBootstrap(): Promise<void> {
    if (this.readModels instanceof ProjectionRunner) {
      this.readModels.onFailure = (name, reason) => this.logger.error(`Projection ${name} stopped: ${reason}`);
      this.readModels.onDiscardedSnapshot = (name, reason) => this.logger.warn(`Saved read model ${name} set aside (${reason}); rebuilding it from the log`);
      this.readModels.onSaveFailure = (error) => this.logger.error(`Read models could not be saved (${error.message}); they keep working, and a restart replays more of the log`);
    }
    if (this.readModels instanceof PostgresProjector) this.readModels.onFailure = (reason) => this.logger.error(`The PostgreSQL read models stopped: ${reason}`);
    try {
      await this.readModels.start();
    } catch (error) {
      // As for an event store: a read side that cannot be reached at start-up stops it in one line
      // naming the setting (once running, the API answers 503 PROJECTIONS.UNAVAILABLE instead).
      throw readSideStartFailure(error) ?? error;
    }
  }

  // The last models are saved before their database closes.
  async onApplicationShutdown(): Promise<void> {
    await this.readModels.stop();
    await this.snapshots.close();
  }
}

