// The projections as their own process: `npm run start:projector`, with the API started with
// PROJECTIONS=external. It follows the event log and saves the read models every half second;
// the API instances serve what it saved.
import { assertMayReadLog, openEventStore } from '@stagecraft/event-store';
import { PostgresProjector, ProjectionRunner, openProjectionStores } from '@stagecraft/projections';
import { startedLine } from './started-line';
import { assertEventStoreExists, describeStartFailure, readSettings, settingWarnings, readSideStartFailure, type Settings } from '@stagecraft/config';

// With READ_MODELS_URL the projector writes the read models into PostgreSQL (one per schema: a
// second one waits for the first's lock), and the API instances answer from there.
async function projectIntoPostgres(settings: Settings, postgres: NonNullable<Settings['readModelsPostgres']>): Promise<void> {
  const store = openEventStore(settings);
  // Before PostgreSQL is touched (a schema made, a lock taken): a user the server refuses stops
  // start-up naming EVENT_STORE_URL, as the API and the relay stop.
  await assertMayReadLog(store);
  const projector = new PostgresProjector(store, postgres, {
    onWaitingForLock: () => console.log(`Another projector holds the read models in schema ${postgres.schema}; waiting for it to stop.`),
    onReset: (reason) => console.warn(reason),
    onStall: (message) => console.warn(message),
  });
  projector.onFailure = (reason) => console.error(`The read models stopped: ${reason}`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await projector.stop();
    await store.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  try {
    await projector.start();
  } catch (error) {
    // Not reached, or login or database refused: one line naming the setting, as the API says it.
    throw readSideStartFailure(error) ?? error;
  }
  console.log(startedLine(projector, `PostgreSQL schema ${postgres.schema}`));
}

async function main(): Promise<void> {
  const settings = readSettings();
  // A variable a letter or two away from a setting's name: said at start-up, not ignored in silence.
  for (const warning of settingWarnings(process.env)) console.warn(`Warning: ${warning}`);
  assertEventStoreExists(settings);
  if (settings.readModelsPostgres) return projectIntoPostgres(settings, settings.readModelsPostgres);
  const { store, snapshots, projections } = openProjectionStores(settings);
  const { readModelsPath } = settings;
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
  console.log(startedLine(runner, readModelsPath));
}

main().catch((error: unknown) => {
  const reason = describeStartFailure(error);
  console.error(reason !== undefined ? `Projector did not start.\n${reason}` : error);
  process.exit(1);
});
