// The thread that writes and reads a read-model file's chunks (see sqlite-projection-snapshot.store.ts):
// a save's transaction of tens of megabytes, written as its parts arrive, and a load's read happen
// here and not on the thread answering requests. Imports stay relative: this file is loaded on its
// own, outside Jest and the app's path aliases (a type-only import is erased, so the alias below
// costs nothing at run time).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromRequestThread, ToRequestThread } from '@stagecraft/event-store';
import {
  answerSnapshotRequest,
  prepareSnapshotDatabase,
  snapshotStatements,
  snapshotWriter,
  transferableRead,
  type SnapshotReply,
  type SnapshotRequest,
} from './sqlite-projection-snapshot.database';

const port = parentPort!;
// The main thread opened (and checked, or set aside) the file before starting this thread.
const { path } = workerData as { path: string };
const db = new Database(path);
prepareSnapshotDatabase(db);
const writer = snapshotWriter(db);
// Loads read through a connection of their own: a save's transaction stays open between its
// parts, and on its own connection a load would see that save in part.
const reads = new Database(path);
reads.pragma('busy_timeout = 5000');
const storage = snapshotStatements(reads);

port.on('message', (message: ToRequestThread<SnapshotRequest>) => {
  if ('close' in message) {
    reads.close();
    db.close();
    port.postMessage({ closed: true } satisfies FromRequestThread<SnapshotReply>);
    port.close();
    return;
  }
  try {
    const { request } = message;
    const reply = answerSnapshotRequest(storage, writer, request);
    if (reply.type === 'read') {
      // A read's chunks are handed over, not copied.
      const { read, transfer } = transferableRead(reply.read);
      port.postMessage({ id: message.id, reply: { type: 'read', read } } satisfies FromRequestThread<SnapshotReply>, transfer);
    } else {
      // A written part's chunks go back to the main thread to be collected there: this thread
      // allocates almost nothing, so its collector seldom runs, and tens of MB of written parts
      // waited here for it.
      const spent = request.type === 'part' ? request.part.chunks : [];
      port.postMessage({ id: message.id, reply: { type: 'written', spent } } satisfies FromRequestThread<SnapshotReply>, spent.map((chunk) => chunk.buffer as ArrayBuffer));
    }
  } catch (error) {
    port.postMessage({ id: message.id, error: (error as Error).message } satisfies FromRequestThread<SnapshotReply>);
  }
});
