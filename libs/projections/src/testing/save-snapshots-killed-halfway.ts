// A process for the snapshot kill test: saves twoModels(1) into the read-model file at argv[2],
// then starts saving twoModels(2) and, once every part of 'a' is on the snapshot thread and 'b'
// is being read, prints "halfway" and blocks for good (without spinning) until it is killed.
import { getSQLiteProjectionSnapshotStore } from '../runner/sqlite-projection-snapshot.store';
import { SMALL_PARTS, twoModels } from './snapshot-saves.fixtures';

async function main(): Promise<void> {
  const store = getSQLiteProjectionSnapshotStore(process.argv[2]!, SMALL_PARTS);
  await store.save(twoModels(1)).written;
  void store.save(
    twoModels(2, {
      get late() {
        process.stdout.write('halfway\n'); // synchronous on a pipe: it is out before the block
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
        return 0;
      },
    }),
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
