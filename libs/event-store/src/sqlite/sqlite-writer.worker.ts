// The writer thread of a SQLite event store (see sqlite-writer.ts): it owns the connection that
// writes, so the transaction, the inserts and the COMMIT's fsync block this thread and not the
// one answering requests. Imports stay relative: this file is loaded on its own, outside Jest and
// outside the app's path aliases.
import { parentPort, workerData } from 'node:worker_threads';
import type { FromRequestThread, ToRequestThread } from '../worker-thread';
import { createBatchCommitter } from './sqlite-append.transaction';
import { BackgroundCheckpoints } from './sqlite-checkpointer';
import { openEventStoreDatabase } from './sqlite-database';
import type { CommitReply, CommitRequest, WriterThreadData } from './sqlite-writer.protocol';

const port = parentPort!;
const { path, durability, checkpointer, checkpointEveryEvents } = workerData as WriterThreadData;
const db = openEventStoreDatabase(path, durability);
// The WAL is copied into the database file by the checkpointer thread, not by these commits.
const checkpoints = new BackgroundCheckpoints(db, checkpointer, checkpointEveryEvents);
const commit = createBatchCommitter(db, checkpoints);

port.on('message', (message: ToRequestThread<CommitRequest>) => {
  if ('close' in message) {
    checkpoints.close();
    db.close();
    port.postMessage({ closed: true } satisfies FromRequestThread<CommitReply>);
    port.close();
    return;
  }
  // commit() answers every failure as a reply, so nothing here throws. The outcomes' buffer is
  // handed over rather than copied.
  const reply = commit(message.request);
  port.postMessage({ id: message.id, reply } satisfies FromRequestThread<CommitReply>, reply.committed ? [reply.outcomes.buffer as ArrayBuffer] : []);
});
