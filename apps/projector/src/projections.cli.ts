// npm run projections -- status
// npm run projections -- rebuild [name ...]   (all when none is named; also `stagecraft rebuild`)
// Works on the store files directly; rebuild while neither the API (in-process projections) nor
// the projector runs, or use POST /admin/projections/:name/rebuild on a running API.
import { assertEventStoreExists, describeStartFailure, readSettings, readSideStartFailure } from '@stagecraft/config';
import { assertMayReadLog, openEventStore } from '@stagecraft/event-store';
import { escapeUnseen, quotedValue } from '@stagecraft/sales-process';
import { ALL_PROJECTIONS, openProjectionStores, postgresProjectionStatus, ProjectionRebuildError, rebuildPostgresReadSide, rebuildProjections, savedProjectionStatus, unknownProjections, type Projection } from '@stagecraft/projections';

function bar(position: number, head: number): string {
  const share = head === 0 ? 1 : Math.min(1, position / head);
  const filled = Math.round(share * 30);
  return `[${'#'.repeat(filled)}${'.'.repeat(30 - filled)}] ${(share * 100).toFixed(0).padStart(3)}%  ${position.toLocaleString('en')} / ${head.toLocaleString('en')}`;
}

// With READ_MODELS_URL the read models are in PostgreSQL: all six share one schema and one
// checkpoint, and a rebuild rebuilds them together (into a shadow schema, swapped in at the end).
async function postgresMain(args: string[], settings: ReturnType<typeof readSettings>): Promise<number> {
  const postgres = settings.readModelsPostgres!;
  const store = openEventStore(settings);
  try {
    // As the projector does at start-up: a user the server refuses is said naming EVENT_STORE_URL, before PostgreSQL is touched.
    await assertMayReadLog(store);
    const [command, ...names] = args;
    if (command === 'status') {
      for (const status of await postgresProjectionStatus(store, postgres)) {
        console.log(`${status.name.padEnd(18)} ${status.checkpoint !== undefined ? `checkpoint ${status.checkpoint} (lag ${status.lag})` : 'never saved'}${status.failed ? `  FAILED: ${status.failed}` : ''}`);
      }
      return 0;
    }
    if (command !== 'rebuild') {
      console.error('usage: npm run projections -- status | rebuild [name ...]');
      return 2;
    }
    const unknown = unknownProjections(ALL_PROJECTIONS as readonly Projection<unknown>[], names);
    if (unknown.length > 0) {
      console.error(`unknown projection(s) ${unknown.map((name) => quotedValue(name)).join(', ')}; there are ${ALL_PROJECTIONS.map((p) => p.name).join(', ')}`);
      return 2;
    }
    const { position } = await rebuildPostgresReadSide(
      store,
      postgres,
      (progress) => process.stderr.write(`\r${bar(progress.position, progress.head)}`),
      () => console.error(`A projector holds the read models in schema ${postgres.schema}; waiting for it to stop (or use POST /admin/projections/:name/rebuild on the API that projects).`),
      (warning) => console.warn(`\n${warning}`),
    );
    process.stderr.write('\n');
    console.log(`Rebuilt ${ALL_PROJECTIONS.map((p) => p.name).join(', ')} up to position ${position} (PostgreSQL schema ${postgres.schema}).`);
    return 0;
  } finally {
    await store.close();
  }
}

async function main(args: string[]): Promise<number> {
  const settings = readSettings();
  assertEventStoreExists(settings);
  if (settings.readModelsPostgres) return postgresMain(args, settings);
  const stores = openProjectionStores(settings);
  const { store, snapshots, projections } = stores;
  try {
    await assertMayReadLog(store);
    const [command, ...names] = args;
    if (command === 'status') {
      for (const status of await savedProjectionStatus(stores)) {
        console.log(`${status.name.padEnd(18)} ${status.checkpoint !== undefined ? `checkpoint ${status.checkpoint} (lag ${status.lag})` : 'never saved'}${status.failed ? `  FAILED: ${status.failed}` : ''}`);
      }
      return 0;
    }
    if (command !== 'rebuild') {
      console.error('usage: npm run projections -- status | rebuild [name ...]');
      return 2;
    }
    const unknown = unknownProjections(projections, names);
    if (unknown.length > 0) {
      console.error(`unknown projection(s) ${unknown.map((name) => quotedValue(name)).join(', ')}; there are ${projections.map((p) => p.name).join(', ')}`);
      return 2;
    }
    const { rebuilt, position } = await rebuildProjections(stores, names, (progress) => process.stderr.write(`\r${bar(progress.position, progress.head)}`));
    process.stderr.write('\n');
    console.log(`Rebuilt ${rebuilt.join(', ')} up to position ${position}.`);
    return 0;
  } finally {
    await snapshots.close();
    await store.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    // A setting, or a store or read side that cannot be used (a KurrentDB server refusing the user of
    // EVENT_STORE_URL, PostgreSQL not reached), is the operator's to fix: one line, as at start-up, not a stack.
    // A rebuild that did not finish says why in one line too (an event it cannot read, a file it cannot write).
    const reason = error instanceof ProjectionRebuildError ? escapeUnseen(error.message) : describeStartFailure(readSideStartFailure(error) ?? error);
    console.error(reason ?? error);
    process.exit(1);
  },
);
