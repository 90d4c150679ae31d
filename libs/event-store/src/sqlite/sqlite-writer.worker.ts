// The writer thread of a SQLite event store (see sqlite-writer.ts): it owns the connection that
// writes, so the transaction, the inserts and the COMMIT's fsync block this thread and not the
// one answering requests. Imports stay relative: this file is loaded on its own, outside Jest and
// outside the app's path aliases.
import { parentPort, workerData } from 'node:worker_threads';
import { createBatchCommitter } from './sqlite-append.transaction';
import { openEventStoreDatabase } from './sqlite-database';
import type { FromWriter, ToWriter, WriterThreadData } from './sqlite-writer.protocol';

const port = parentPort!;
const { path, durability } = workerData as WriterThreadData;
const db = openEventStoreDatabase(path, durability);
const commit = createBatchCommitter(db);

port.on('message', (message: ToWriter) => {
  switch (message.type) {
    case 'commit':
      port.postMessage({ type: 'reply', reply: commit(message.request) } satisfies FromWriter);
      return;
    case 'close':
      db.close();
      port.postMessage({ type: 'closed' } satisfies FromWriter);
      port.close();
      return;
    default: {
      const _exhaustive: never = message;
      return _exhaustive;
    }
  }
});
