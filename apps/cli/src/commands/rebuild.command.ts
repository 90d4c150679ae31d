import type { Settings } from '@stagecraft/config';
import { openEventStore } from '@stagecraft/event-store';
import { ALL_PROJECTIONS, openProjectionStores, ProjectionRebuildError, rebuildPostgresReadSide, rebuildProjections, unknownProjections, type Projection } from '@stagecraft/projections';
import { CliError, EXIT } from '../cli.errors';
import { assertStoreExists } from '../io/event-store';
import { quoted } from '../io/printable';
import { progressBar } from '../io/progress';

/**
 * `stagecraft rebuild [projection...]`: rebuilds read models from position 0 into READ_MODELS_PATH
 * (the same work as `npm run projections -- rebuild`). Offline: run it while no API with in-process
 * projections and no projector writes that file, or use the HTTP rebuild on a running API.
 */
export async function rebuildReadModels(settings: Settings, names: readonly string[]): Promise<number> {
  assertStoreExists(settings);
  if (settings.readModelsPostgres) return rebuildInPostgres(settings, names);
  const stores = openProjectionStores(settings);
  try {
    const unknown = unknownProjections(stores.projections, names);
    if (unknown.length > 0) {
      throw new CliError(`unknown projection(s) ${unknown.map((name) => quoted(name)).join(', ')}; there are ${stores.projections.map((p) => p.name).join(', ')}`);
    }
    const head = await stores.store.headPosition();
    const progress = progressBar('rebuild', head, 'positions');
    let result;
    try {
      result = await rebuildProjections(stores, names, (step) => progress.update(step.position, step.head));
    } catch (error) {
      if (!(error instanceof ProjectionRebuildError)) throw error;
      throw new CliError(`Read models in ${settings.readModelsPath} (READ_MODELS_PATH) not rebuilt: ${error.message}.`, EXIT.failed);
    } finally {
      progress.stop();
    }
    const { rebuilt, position } = result;
    console.log(`Rebuilt ${rebuilt.join(', ')} up to position ${position} (read models in ${settings.readModelsPath}).`);
    return EXIT.ok;
  } finally {
    await stores.snapshots.close();
    await stores.store.close();
  }
}

/** With READ_MODELS_URL: every read model together (one schema), into a shadow schema swapped in at the end. */
async function rebuildInPostgres(settings: Settings, names: readonly string[]): Promise<number> {
  const unknown = unknownProjections(ALL_PROJECTIONS as readonly Projection<unknown>[], names);
  if (unknown.length > 0) throw new CliError(`unknown projection(s) ${unknown.map((name) => quoted(name)).join(', ')}; there are ${ALL_PROJECTIONS.map((p) => p.name).join(', ')}`);
  const postgres = settings.readModelsPostgres!;
  const store = openEventStore(settings);
  try {
    const progress = progressBar('rebuild', await store.headPosition(), 'positions');
    const { position } = await rebuildPostgresReadSide(
      store,
      postgres,
      (step) => progress.update(step.position, step.head),
      () => console.error(`A projector holds the read models in schema ${postgres.schema}; waiting for it to stop.`),
      (warning) => console.warn(warning),
    );
    progress.stop();
    console.log(`Rebuilt ${ALL_PROJECTIONS.map((p) => p.name).join(', ')} up to position ${position} (PostgreSQL schema ${postgres.schema}).`);
    return EXIT.ok;
  } finally {
    await store.close();
  }
}
