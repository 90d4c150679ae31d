// The projections as their own process: `npm run start:projector`, with the API started with
// PROJECTIONS=external. It follows the event log and saves the read models every half second;
// the API instances serve what it saved.
import { ProjectionRunner } from '@stagecraft/projections';
import { SettingsError } from '../../api/src/settings/api-settings';
import { openProjectorStores } from './projector.runtime';

async function main(): Promise<void> {
  const { store, snapshots, projections, readModelsPath } = openProjectorStores();
  // It answers no requests: saving back to back keeps the API instances that follow it current.
  const runner = new ProjectionRunner(store, snapshots, projections, { snapshotEveryMs: 500, snapshotEveryEvents: 20_000, saveSpacing: 1 });
  runner.onFailure = (name, reason) => console.error(`Projection ${name} stopped: ${reason}`);
  runner.onDiscardedSnapshot = (name, reason) => console.warn(`Saved read model ${name} set aside (${reason}); rebuilding it from the log`);
  // Saving is all a projector is for: one that cannot save stops, loudly, rather than serve stale models.
  runner.onSaveFailure = (error) => {
    console.error(`Projector stopped: the read models could not be saved in ${readModelsPath}: ${error.message}`);
    process.exit(1);
  };
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await runner.stop();
    await snapshots.close();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  await runner.start();
  console.log(`Stagecraft projector caught up at position ${runner.position()}; read models in ${readModelsPath}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof SettingsError ? `Projector did not start.\n${error.message}` : error);
  process.exit(1);
});
