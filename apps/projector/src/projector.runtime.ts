import type { EventStore } from '@stagecraft/event-store';
import { ALL_PROJECTIONS, getSQLiteProjectionSnapshotStore, type Projection, type ProjectionSnapshotStore } from '@stagecraft/projections';
import { openEventStore } from '../../api/src/event-store/event-store.factory';
import { readApiSettings } from '../../api/src/settings/api-settings';

/** The stores the projector works on, from the same settings (environment) as the API. */
export function openProjectorStores(): { store: EventStore; snapshots: ProjectionSnapshotStore; projections: readonly Projection<unknown>[]; readModelsPath: string } {
  const settings = readApiSettings();
  return {
    store: openEventStore(settings),
    snapshots: getSQLiteProjectionSnapshotStore(settings.readModelsPath),
    projections: ALL_PROJECTIONS as readonly Projection<unknown>[],
    readModelsPath: settings.readModelsPath,
  };
}
