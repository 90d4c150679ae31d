import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { getSQLiteEventStore, type EventStore, type ReadStreamOptions } from '@stagecraft/event-store';
import { toOpportunityStreamId } from '@stagecraft/opportunity';
import { createCommandSide } from '../command-side';
import type { CommandEnvelope } from '../command-envelope';
import { OpportunityStreams, SNAPSHOT_EVERY_EVENTS } from '../opportunity-streams';
import { getSQLiteStreamSnapshotStore } from './sqlite-stream-snapshot.store';

// A long stream is folded once and kept as a snapshot, so a later load (after a restart, on
// another instance) reads only what came after it, and answers exactly what a full fold answers.

const PROCESSES = join(__dirname, '..', '..', '..', '..', 'config', 'processes');

describe('stream snapshots', () => {
  let dir: string;
  let store: EventStore;
  const reads: { stream: string; fromRevision: number }[] = [];
  const id = '2d7b1c8e-5a41-4f0e-9d6a-0b8c7e6f5a41';
  const stream = toOpportunityStreamId(id);

  /** The store, with every stream read it serves noted down. */
  const watched = (): EventStore => ({
    ...store,
    appendToStream: store.appendToStream.bind(store),
    readAll: store.readAll.bind(store),
    subscribeToAll: store.subscribeToAll.bind(store),
    headPosition: store.headPosition.bind(store),
    health: store.health.bind(store),
    close: store.close.bind(store),
    readStream: (name: string, options?: ReadStreamOptions) => {
      reads.push({ stream: name, fromRevision: options?.fromRevision ?? 0 });
      return store.readStream(name, options);
    },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stream-snapshots-'));
    store = getSQLiteEventStore({ path: join(dir, 'events.db'), durability: 'normal' });
    const side = await createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 5, streamCacheSize: 0 });
    const envelope = (n: number): CommandEnvelope => ({ commandId: `c-${n}`, clientSuppliedId: true, correlationId: 'test', actor: 'test', authenticatedBy: 'test', now: new Date(Date.UTC(2026, 0, 1, 0, n)).toISOString() });
    await side.executor.execute({ type: 'OpenOpportunity', opportunityId: id, title: 'Long', processId: 'standard' }, envelope(0));
    // 130 events: criteria met and revoked back and forth, a move, PATCHes.
    for (let n = 1; n < 130; n++) {
      const body =
        n === 1
          ? ({ type: 'MoveOpportunityToStage', opportunityId: id, stage: 'qualification' } as const)
          : n % 3 === 0
            ? ({ type: 'ChangeOpportunityDetails', opportunityId: id, amount: n } as const)
            : ({ type: n % 3 === 1 ? 'MeetExitCriterion' : 'RevokeExitCriterion', opportunityId: id, criterionId: 'need-confirmed' } as const);
      await side.executor.execute(body, envelope(n));
    }
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const fullFold = () => new OpportunityStreams(store, 0).load(id);

  it('a later load reads only past the snapshot, and folds to what a full read folds to', async () => {
    const path = join(dir, 'snapshots-a.db');
    const first = getSQLiteStreamSnapshotStore(path);
    await new OpportunityStreams(store, 0, first).load(id);
    first.close(); // flushes the snapshot written behind

    const again = getSQLiteStreamSnapshotStore(path);
    reads.length = 0;
    const loaded = await new OpportunityStreams(watched(), 0, again).load(id);
    again.close();
    const expected = await fullFold();
    expect(loaded).toEqual(expected);
    expect(expected.revision).toBeGreaterThan(2 * SNAPSHOT_EVERY_EVENTS);
    // One read of the event at the snapshot's revision (its hash), one of what came after: none from 0.
    expect(reads.map((read) => read.fromRevision).every((from) => from >= SNAPSHOT_EVERY_EVENTS)).toBe(true);
    expect(reads.length).toBe(2);
  });

  it('a snapshot whose stored event no longer carries its hash is discarded and the stream read whole', async () => {
    const path = join(dir, 'snapshots-b.db');
    const first = getSQLiteStreamSnapshotStore(path);
    await new OpportunityStreams(store, 0, first).load(id);
    first.close();
    // Someone edits the snapshot's head event in the log: its hash no longer matches.
    const { revision } = await fullFold();
    const db = new Database(join(dir, 'events.db'));
    db.prepare(`UPDATE events SET metadata = json_set(metadata, '$.hash', 'edited') WHERE stream = ? AND revision = ?`).run(stream, revision);
    db.close();
    const again = getSQLiteStreamSnapshotStore(path);
    reads.length = 0;
    const loaded = await new OpportunityStreams(watched(), 0, again).load(id);
    expect(reads.map((read) => read.fromRevision)).toContain(0);
    expect(loaded).toEqual(await fullFold());
    // The old one was discarded; the new one is of the log as it is stored now (verify reports the edit).
    expect(again.load(stream)?.headHash).toBe('edited');
    again.close();
  });
});
