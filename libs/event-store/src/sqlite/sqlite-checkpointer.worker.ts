// The checkpointer thread of a SQLite event store (see sqlite-checkpointer.ts): with a connection of
// its own it copies the write-ahead log's pages into the database file, so the writer's commits do
// not. PASSIVE checkpoints take no lock a commit waits for: the writer keeps committing (and
// fsyncing the WAL) while this thread copies and fsyncs the database file. Imports stay relative:
// this file is loaded on its own, outside Jest and outside the app's path aliases.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { FromRequestThread, ToRequestThread } from '../worker-thread';
import type { CheckpointerThreadData, CheckpointPass, FromCheckpointer, ToCheckpointer } from './sqlite-checkpointer';
import { openEventStoreDatabase } from './sqlite-database';

/**
 * Passes per request at most: each copies what the commits made while the one before copied, so
 * they shrink; the writer copies what is left (see sqlite-checkpointer.ts).
 */
const MAX_PASSES = 4;

const port = parentPort!;
const { path, durability, writer, leaveFrames } = workerData as CheckpointerThreadData;
const db = openEventStoreDatabase(path, durability);
// This connection never commits, so it would never checkpoint on its own; said anyway.
db.pragma('wal_autocheckpoint = 0');

function pass(): CheckpointPass {
  const [row] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
  return { log: row!.log, checkpointed: row!.checkpointed };
}

(writer as MessagePort).on('message', (message: ToCheckpointer) => {
  if (!('checkpoint' in message)) return;
  // A pass copies the frames there were when it began; the next one finds those committed
  // meanwhile. Another pass while the last one had more than leaveFrames to copy.
  let last = pass();
  let copied = last.checkpointed;
  for (let passes = 1; passes < MAX_PASSES && copied > leaveFrames; passes++) {
    const next = pass();
    copied = next.checkpointed - last.checkpointed;
    last = next;
  }
  writer.postMessage(last satisfies FromCheckpointer);
});

// Until this, the writer keeps SQLite's automatic checkpoint on: a thread slow to start must not
// leave the WAL growing.
writer.postMessage({ ready: true } satisfies FromCheckpointer);

// From the store's thread: only the request to close.
port.on('message', (message: ToRequestThread<never>) => {
  if (!('close' in message)) return;
  db.close();
  port.postMessage({ closed: true } satisfies FromRequestThread<never>);
  writer.close();
  port.close();
});
