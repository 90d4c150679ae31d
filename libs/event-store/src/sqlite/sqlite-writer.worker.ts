// The writer thread of a SQLite event store (see sqlite-writer.ts): it owns the connection that
// writes, so the transaction, the inserts and the COMMIT's fsync block this thread and not the
// one answering requests. Imports stay relative: this file is loaded on its own, outside Jest and
// outside the app's path aliases.
import { parentPort, workerData } from 'node:worker_threads';
import type { FromRequestThread, ToRequestThread } from '../worker-thread';
import { createBatchCommitter } from './sqlite-append.transaction';
import { configureWriterCache, openEventStoreDatabase } from './sqlite-database';
import type { CommitReply, CommitRequest, WriterThreadData } from './sqlite-writer.protocol';

const WAL_PAGES_BEFORE_CHECKPOINT = 1_000;

const port = parentPort!;
const { path, durability } = workerData as WriterThreadData;
const db = openEventStoreDatabase(path, durability);
// The commit that takes the WAL past this many pages copies them into the database file (and
// fsyncs it) before it returns, and every commit queued behind it waits. SQLite's default, 1,000
// pages, is kept: 8,000 cost the writer a few per cent less CPU per command but, each checkpoint
// being eight times as long, doubled the p99 of commands under load (61 against 33.5 ms on a quiet
// machine, bench:commands). Checkpoints off the commit path would need a thread of their own.
db.pragma(`wal_autocheckpoint = ${WAL_PAGES_BEFORE_CHECKPOINT}`);
configureWriterCache(db);
const commit = createBatchCommitter(db);

port.on('message', (message: ToRequestThread<CommitRequest>) => {
  if ('close' in message) {
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
