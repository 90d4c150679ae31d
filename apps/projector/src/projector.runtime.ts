import type { EventStore } from '@stagecraft/event-store';
import { ALL_PROJECTIONS, getSQLiteProjectionSnapshotStore, type Projection, type ProjectionSnapshotStore } from '@stagecraft/projections';
import { openEventStore } from '@stagecraft/event-store';
import { readSettings } from '@stagecraft/config';

/** The stores the projector works on, from the same settings (environment) as the API. */
export function openProjectorStores(): { store: EventStore; snapshots: ProjectionSnapshotStore; projections: readonly Projection<unknown>[]; readModelsPath: string } {
  const settings = readSettings();
  return {
    store: openEventStore(settings),
    snapshots: getSQLiteProjectionSnapshotStore(settings.readModelsPath),
    projections: ALL_PROJECTIONS as readonly Projection<unknown>[],
    readModelsPath: settings.readModelsPath,
  };
}
