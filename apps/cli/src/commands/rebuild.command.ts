import type { ApiSettings } from '../../../api/src/settings/api-settings';
import { openProjectorStores } from '../../../projector/src/projector.runtime';
import { rebuildProjections, unknownProjections } from '../../../projector/src/projections.maintenance';
import { CliError, EXIT } from '../cli.errors';
import { assertStoreExists } from '../io/event-store';
import { progressBar } from '../io/progress';

/**
 * `stagecraft rebuild [projection...]`: rebuilds read models from position 0 into READ_MODELS_PATH
 * (the same work as `npm run projections -- rebuild`). Offline: run it while no API with in-process
 * projections and no projector writes that file, or use the HTTP rebuild on a running API.
 */
export async function rebuildReadModels(settings: ApiSettings, names: readonly string[]): Promise<number> {
  assertStoreExists(settings);
  const stores = openProjectorStores();
  try {
    const unknown = unknownProjections(stores.projections, names);
    if (unknown.length > 0) {
      throw new CliError(`unknown projection(s) ${unknown.join(', ')}; there are ${stores.projections.map((p) => p.name).join(', ')}`);
    }
    const head = await stores.store.headPosition();
    const progress = progressBar('rebuild', head, 'positions');
    const { rebuilt, position } = await rebuildProjections(stores, names, (step) => progress.update(step.position, step.head));
    progress.stop();
    console.log(`Rebuilt ${rebuilt.join(', ')} up to position ${position} (read models in ${settings.readModelsPath}).`);
    return EXIT.ok;
  } finally {
    await stores.snapshots.close();
    await stores.store.close();
  }
}
