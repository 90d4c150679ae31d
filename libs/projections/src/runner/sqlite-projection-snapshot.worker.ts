// The thread that writes and reads a read-model file's chunks (see sqlite-projection-snapshot.store.ts):
// a save's transaction of tens of megabytes, and a load's read, happen here and not on the thread
// answering requests. Imports stay relative: this file is loaded on its own, outside Jest and the
// app's path aliases (a type-only import is erased, so the alias below costs nothing at run time).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { FromRequestThread, ToRequestThread } from '@stagecraft/event-store';
import {
  answerSnapshotRequest,
  prepareSnapshotDatabase,
  snapshotStatements,
  transferableRead,
  type SnapshotReply,
  type SnapshotRequest,
} from './sqlite-projection-snapshot.database';

const port = parentPort!;
// The main thread opened (and checked, or set aside) the file before starting this thread.
const db = new Database((workerData as { path: string }).path);
prepareSnapshotDatabase(db);
const storage = snapshotStatements(db);

port.on('message', (message: ToRequestThread<SnapshotRequest>) => {
  if ('close' in message) {
    db.close();
    port.postMessage({ closed: true } satisfies FromRequestThread<SnapshotReply>);
    port.close();
    return;
  }
  try {
    const reply = answerSnapshotRequest(storage, message.request);
    // A read's chunks are handed over, not copied.
    const { read, transfer } = reply.type === 'read' ? transferableRead(reply.read) : { read: undefined, transfer: [] };
    port.postMessage({ id: message.id, reply: reply.type === 'read' ? { type: 'read', read } : reply } satisfies FromRequestThread<SnapshotReply>, transfer);
  } catch (error) {
    port.postMessage({ id: message.id, error: (error as Error).message } satisfies FromRequestThread<SnapshotReply>);
  }
});
