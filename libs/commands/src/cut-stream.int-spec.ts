import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { getSQLiteEventStore, type SQLiteEventStore } from '@stagecraft/event-store';
import { verifyStreamChain } from '@stagecraft/audit';
import { toOpportunityStreamId } from '@stagecraft/opportunity';
import { createCommandSide, type CommandSide } from './command-side';
import { envelopeSequence } from './testing/envelopes';

// An instance holding a deal's stream folded in memory, whose last events are then deleted from
// the SQLite file by hand: the next command must not write a new event into the revisions that
// were cut (`verify <id>` would then call the stream intact). A store restored from an older backup
// (its position counter back below the fold) is still read whole and written on, as before.

const PROCESSES = join(__dirname, '..', '..', '..', 'config', 'processes');

describe('a command on a stream whose events this process read were cut from the SQLite file', () => {
  let dir: string;
  let path: string;
  let store: SQLiteEventStore;
  let side: CommandSide;

  const envelope = envelopeSequence();
  /** Runs SQL on the file as an operator's sqlite3 shell would, beside the open store. */
  const byHand = (sql: string, ...params: unknown[]) => {
    const db = new Database(path);
    try {
      db.prepare(sql).run(...params);
    } finally {
      db.close();
    }
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cut-stream-'));
    path = join(dir, 'events.db');
    store = getSQLiteEventStore({ path, durability: 'normal' });
    side = await createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 0, streamCacheSize: 100, streamSnapshotsPath: join(dir, 'stream-snapshots.db') });
  });
  afterEach(async () => {
    await store.close();
    side.snapshots.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A deal at revision 3, folded by this process. */
  async function deal(): Promise<string> {
    const id = crypto.randomUUID();
    await side.executor.execute({ type: 'OpenOpportunity', opportunityId: id, title: 'Deal', processId: 'standard' }, envelope());
    await side.executor.execute({ type: 'MoveOpportunityToStage', opportunityId: id, stage: 'qualification' }, envelope());
    await side.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId: 'goals' }, envelope());
    await side.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId: 'pain-points' }, envelope());
    return id;
  }
  const meet = (id: string, criterionId: string) => side.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId }, envelope());

  it.each([
    ['its last event', 3, 3],
    ['its last two events', 2, 3],
    ['every event', 0, 3],
  ])('%s deleted: the command is refused as CHAIN_BROKEN naming the revisions gone, and again, and nothing is written', async (_, from, to) => {
    const id = await deal();
    const other = await deal(); // the log goes on past the cut: not a store restored from a backup
    byHand('DELETE FROM events WHERE stream = ? AND revision >= ?', toOpportunityStreamId(id), from);
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(meet(id, 'need-confirmed')).rejects.toMatchObject({
        code: 'EVENT_STORE.CHAIN_BROKEN',
        details: { stream: toOpportunityStreamId(id), reason: 'events-cut', revision: from, goneRevisions: { from, to } },
        message: expect.stringContaining('stagecraft verify --all'),
      });
    }
    const stored = await store.readStream(toOpportunityStreamId(id));
    expect(stored.map((event) => event.revision)).toEqual([0, 1, 2, 3].filter((revision) => revision < from));
    // Other deals are not touched.
    await expect(meet(other, 'need-confirmed')).resolves.toMatchObject({ revision: 4 });
  });

  it('the cut put back (the rows restored): commands go on', async () => {
    const id = await deal();
    const stream = toOpportunityStreamId(id);
    const db = new Database(path);
    const row = db.prepare('SELECT * FROM events WHERE stream = ? AND revision = 3').get(stream) as Record<string, unknown>;
    db.close();
    byHand('DELETE FROM events WHERE stream = ? AND revision = 3', stream);
    await expect(meet(id, 'need-confirmed')).rejects.toMatchObject({ code: 'EVENT_STORE.CHAIN_BROKEN' });
    const columns = Object.keys(row);
    byHand(`INSERT INTO events (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`, ...columns.map((column) => row[column]));
    await expect(meet(id, 'need-confirmed')).resolves.toMatchObject({ revision: 4 });
    expect(verifyStreamChain(await store.readStream(stream), stream)).toMatchObject({ ok: true });
  });

  it('a long stream cut at its snapshot, with no fold in memory (as after a restart): refused as well, and again', async () => {
    const id = crypto.randomUUID();
    const stream = toOpportunityStreamId(id);
    await side.executor.execute({ type: 'OpenOpportunity', opportunityId: id, title: 'Deal', processId: 'standard' }, envelope());
    await side.executor.execute({ type: 'MoveOpportunityToStage', opportunityId: id, stage: 'qualification' }, envelope());
    for (let i = 0; i < 25; i++) {
      await meet(id, 'goals');
      await side.executor.execute({ type: 'RevokeExitCriterion', opportunityId: id, criterionId: 'goals' }, envelope());
    }
    side.streams.forget(id);
    await side.streams.load(id); // read whole: long enough to be snapshotted
    const snapshot = side.snapshots.load(stream);
    expect(snapshot?.revision).toBe(51);
    side.streams.forget(id);
    await deal(); // the log goes on past the cut
    byHand('DELETE FROM events WHERE stream = ? AND revision = 51', stream);
    for (let attempt = 0; attempt < 2; attempt++) {
      await expect(meet(id, 'goals')).rejects.toMatchObject({ code: 'EVENT_STORE.CHAIN_BROKEN', details: { reason: 'events-cut', goneRevisions: { from: 51, to: 51 } } });
    }
    expect((await store.readStream(stream)).at(-1)?.revision).toBe(50);
  });

  it('a store restored from an older backup (its position counter back before the fold) is read whole and written on, as before', async () => {
    const id = await deal();
    const stream = toOpportunityStreamId(id);
    const [third] = await store.readStream(stream, { fromRevision: 2, maxCount: 1 });
    // What an online restore of a backup taken after revision 2 leaves: the later events, and their numbers, gone.
    byHand('DELETE FROM events WHERE position > ?', third!.position);
    byHand("UPDATE sqlite_sequence SET seq = ? WHERE name = 'events'", third!.position);
    await expect(meet(id, 'need-confirmed')).resolves.toMatchObject({ revision: 3 });
    expect(verifyStreamChain(await store.readStream(stream), stream)).toMatchObject({ ok: true });
  });
});
