import { openEventStore, type EventStore, type EventStoreSettings } from '@stagecraft/event-store';
import { ALL_PROJECTIONS } from '../all-projections';
import type { Projection } from '../projection.types';
import type { ProjectionSnapshotStore } from './projection-snapshot.store';
import { getSQLiteProjectionSnapshotStore } from './sqlite-projection-snapshot.store';

/** What the projector, the projections CLI and `stagecraft rebuild` work on. */
export interface ProjectionStores {
  readonly store: EventStore;
  readonly snapshots: ProjectionSnapshotStore;
  readonly projections: readonly Projection<unknown>[];
}

/** The configured event store and read-model file, with every read model, as the API opens them. */
export function openProjectionStores(settings: EventStoreSettings & { readonly readModelsPath: string }): ProjectionStores {
  return {
    store: openEventStore(settings),
    snapshots: getSQLiteProjectionSnapshotStore(settings.readModelsPath),
    projections: ALL_PROJECTIONS as readonly Projection<unknown>[],
  };
}
