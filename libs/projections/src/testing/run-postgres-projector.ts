// A projector process for the kill tests: follows the SQLite store at argv[2] into PostgreSQL
// (READ_MODELS_TEST_URL / argv[3] schema) in small batches (argv[4]), printing each checkpoint it
// commits; argv[5], when given, is the fold length from which it defers the query indexes.
import { getSQLiteEventStore } from '@stagecraft/event-store';
import { PostgresProjector } from '../postgres/postgres.projector';
import { POSTGRES_TEST_URL } from './postgres.testing';

async function main(): Promise<void> {
  const [, , path, schema, batch, deferIndexesFrom] = process.argv;
  const store = getSQLiteEventStore({ path: path!, pollIntervalMs: 20 });
  const projector = new PostgresProjector(store, { url: POSTGRES_TEST_URL, schema: schema! }, {
    batchSize: Number(batch ?? 5),
    ...(deferIndexesFrom === undefined ? {} : { deferIndexesFrom: Number(deferIndexesFrom) }),
    onWaitingForLock: () => console.log('waiting for the lock'),
    onProgress: ({ position }) => console.log(`checkpoint ${position}`),
  });
  await projector.start();
  console.log(`caught up ${projector.position()}`);
  process.on('SIGTERM', () => void projector.stop().then(() => store.close()).then(() => process.exit(0)));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
