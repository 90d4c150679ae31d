import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { getSQLiteEventStore, type EventStore } from '@stagecraft/event-store';
import { toOpportunityStreamId } from '@stagecraft/opportunity';
import { createCommandSide } from '../command-side';
import type { CommandEnvelope } from '../command-envelope';
import { OpportunityStreams, SNAPSHOT_EVERY_EVENTS, type LoadedOpportunity } from '../opportunity-streams';
import { readsNoted } from '../testing/reads-noted.store';
import { getSQLiteStreamSnapshotStore } from './sqlite-stream-snapshot.store';
import type { StreamSnapshotToSave } from './stream-snapshot.store';

// A long stream is folded once and kept as a snapshot, so a later load (after a restart, on
// another instance) reads only what came after it, and answers exactly what a full fold answers.

const PROCESSES = join(__dirname, '..', '..', '..', '..', 'config', 'processes');

/**
 * A keyed history of one deal: command n has id `<prefix>-<n>` (an attempt of its own, a minute
 * after the one before, from the start of `month` 2026): opened, moved once, then a criterion met
 * and revoked in turn.
 */
const keyedCommands = (opportunityId: string, prefix: string, month: number) => ({
  keyed: (n: number): CommandEnvelope => ({ commandId: `${prefix}-${n}`, clientSuppliedId: true, correlationId: `attempt-${n}`, actor: 'test', authenticatedBy: 'test', now: new Date(Date.UTC(2026, month, 1, 0, n)).toISOString() }),
  body: (n: number) =>
    n === 0
      ? ({ type: 'OpenOpportunity', opportunityId, title: 'Keyed', processId: 'standard' } as const)
      : n === 1
        ? ({ type: 'MoveOpportunityToStage', opportunityId, stage: 'qualification' } as const)
        : ({ type: n % 2 === 0 ? 'MeetExitCriterion' : 'RevokeExitCriterion', opportunityId, criterionId: 'need-confirmed' } as const),
});

describe('stream snapshots', () => {
  let dir: string;
  let store: EventStore;
  const reads: { stream: string; fromRevision: number; maxCount?: number }[] = [];
  const id = '2d7b1c8e-5a41-4f0e-9d6a-0b8c7e6f5a41';
  const stream = toOpportunityStreamId(id);

  /** The store, with every stream read it serves noted down. */
  const watched = (): EventStore => readsNoted(store, (name, options) => reads.push({ stream: name, fromRevision: options?.fromRevision ?? 0, maxCount: options?.maxCount }));

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
  /** A loaded stream without its command lookups (functions): those are compared id by id. */
  const folded = ({ commands: _commands, snapshotRevision: _snapshotRevision, ...rest }: LoadedOpportunity) => rest;
  const commandIds = (count: number) => Array.from({ length: count }, (_, n) => `c-${n}`);
  const expectSameCommands = (loaded: LoadedOpportunity, expected: LoadedOpportunity, ids: readonly string[]) => {
    for (const commandId of ids) expect([commandId, loaded.commands.get(commandId)]).toEqual([commandId, expected.commands.get(commandId)]);
    expect(loaded.commands.get('never-sent')).toBeUndefined();
  };

  it('a later load reads only past the snapshot, and folds to what a full read folds to', async () => {
    const path = join(dir, 'snapshots-a.db');
    const first = getSQLiteStreamSnapshotStore(path);
    await new OpportunityStreams(store, 0, first).load(id);
    first.close(); // flushes the snapshot written behind

    const again = getSQLiteStreamSnapshotStore(path);
    reads.length = 0;
    const loaded = await new OpportunityStreams(watched(), 0, again).load(id);
    const expected = await fullFold();
    expect(folded(loaded)).toEqual(folded(expected));
    expectSameCommands(loaded, expected, commandIds(130)); // those before the snapshot, from its file
    again.close();
    expect(expected.commands.get('c-129')).toMatchObject({ revision: expected.revision });
    expect(expected.revision).toBeGreaterThan(2 * SNAPSHOT_EVERY_EVENTS);
    // One read of the event at the snapshot's revision (its hash), one of what came after, and one
    // of the first event alone (the stream still starts at revision 0): nothing else from 0.
    expect(reads.filter((read) => read.fromRevision < SNAPSHOT_EVERY_EVENTS)).toEqual([{ stream, fromRevision: 0, maxCount: 1 }]);
    expect(reads.length).toBe(3);
  });

  it('a snapshot whose stored event no longer carries its hash is discarded and the stream read whole', async () => {
    const path = join(dir, 'snapshots-b.db');
    const first = getSQLiteStreamSnapshotStore(path);
    await new OpportunityStreams(store, 0, first).load(id);
    first.close();
    // Someone edits the snapshot's head event in the log: its hash no longer matches.
    const { revision } = await fullFold();
    const edit = (sql: string) => {
      const db = new Database(join(dir, 'events.db'));
      db.prepare(sql).run(stream, revision);
      db.close();
    };
    edit(`UPDATE events SET metadata = json_set(metadata, '$.hash', 'edited', '$.hashBefore', json_extract(metadata, '$.hash')) WHERE stream = ? AND revision = ?`);
    try {
      const again = getSQLiteStreamSnapshotStore(path);
      reads.length = 0;
      const loaded = await new OpportunityStreams(watched(), 0, again).load(id);
      expect(reads.map((read) => read.fromRevision)).toContain(0);
      const expected = await fullFold();
      expect(folded(loaded)).toEqual(folded(expected));
      expect(loaded.chainBreak).toMatchObject({ revision, reason: 'hash-mismatch' });
      expectSameCommands(loaded, expected, commandIds(130));
      // The old one was discarded, and none is taken of the log as stored now: one past the break
      // would hide it from the next load, which would decide commands on it again.
      expect(again.load(stream)).toBeUndefined();
      again.close();
    } finally {
      edit(`UPDATE events SET metadata = json_remove(json_set(metadata, '$.hash', json_extract(metadata, '$.hashBefore')), '$.hashBefore') WHERE stream = ? AND revision = ?`);
    }
  });

  it('a snapshot row edited in place, or resealed but not a snapshot of the stream, is not used: the stream is read whole', async () => {
    const path = join(dir, 'snapshots-shape.db');
    const first = getSQLiteStreamSnapshotStore(path);
    await new OpportunityStreams(store, 0, first).load(id);
    first.close();
    const expected = await fullFold();
    const shapes = ["json_set(json, '$.state', json('null'))", "json_set(json, '$.state', json('{\"status\":\"won\"}'))", "json_set(json, '$.revision', -1)", "json_set(json, '$.stream', 'another')", "'[]'"];
    // Edits that keep the shape: only the seal tells them from what was saved.
    const inPlace = ["json_set(json, '$.state.stage', 'negotiation')", "json_set(json, '$.state.criteriaMet', json('[\"need-confirmed\",\"budget-identified\"]'))", "json_set(json, '$.revision', json_extract(json, '$.revision') - 1)"];
    const edits = [...[...shapes, ...inPlace].map((edit) => ({ edit, resealed: false })), ...shapes.map((edit) => ({ edit, resealed: true }))];
    for (const { edit, resealed } of edits) {
      const db = new Database(path);
      const saved = db.prepare('SELECT snapshot FROM stream_snapshots WHERE stream = ?').get(stream) as { snapshot: string };
      const json = (db.prepare(`SELECT ${edit.replaceAll('json,', '?,').replace(/json_extract\(json,/g, 'json_extract(?,')} AS edited`).get(...Array.from({ length: edit.split('json,').length - 1 }, () => saved.snapshot.slice(64))) as { edited: string }).edited;
      const sealed = resealed ? `${createHash('sha256').update(JSON.stringify([stream])).update('\0').update(json).digest('hex')}${json}` : `${saved.snapshot.slice(0, 64)}${json}`;
      db.prepare('UPDATE stream_snapshots SET snapshot = ? WHERE stream = ?').run(sealed, stream);
      db.close();
      const edit_ = `${edit}${resealed ? ' (resealed)' : ''}`;
      const edited = getSQLiteStreamSnapshotStore(path);
      expect([edit_, edited.load(stream)]).toEqual([edit_, undefined]);
      reads.length = 0;
      const loaded = await new OpportunityStreams(watched(), 0, edited).load(id);
      expect(reads.map((read) => read.fromRevision)).toContain(0);
      expect(folded(loaded)).toEqual(folded(expected));
      edited.close();
      const restore = new Database(path);
      restore.prepare('UPDATE stream_snapshots SET snapshot = ? WHERE stream = ?').run(saved.snapshot, stream);
      restore.close();
    }
  });

  it('keeps each keyed command once: a snapshot adds those since the one before, and after a restart every one still answers its retry', async () => {
    const path = join(dir, 'snapshots-c.db');
    const other = '7c1f0e2a-9b3d-4c5e-8f60-1a2b3c4d5e6f';
    const { keyed, body } = keyedCommands(other, 'k', 1);
    const count = 3 * SNAPSHOT_EVERY_EVENTS + 7;
    const side = await createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 5, streamCacheSize: 0, streamSnapshotsPath: path });
    const answers = [];
    for (let n = 0; n < count; n++) answers.push(await side.executor.execute(body(n), keyed(n)));
    side.snapshots.close();

    // The file: one snapshot row holding no command, and each command covered by it once.
    const db = new Database(path, { readonly: true });
    const row = db.prepare<[string], { snapshot: string }>('SELECT snapshot FROM stream_snapshots WHERE stream = ?').get(toOpportunityStreamId(other))!;
    const snapshotRevision = (JSON.parse(row.snapshot.slice(64)) as { revision: number }).revision; // after its seal
    expect(row.snapshot).not.toContain('k-1');
    const stored = db.prepare<[string], { command_id: string }>('SELECT command_id FROM stream_commands WHERE stream = ? ORDER BY command_id').all(toOpportunityStreamId(other));
    db.close();
    expect(snapshotRevision).toBeGreaterThanOrEqual(2 * SNAPSHOT_EVERY_EVENTS);
    expect(stored.map((command) => command.command_id).sort()).toEqual(Array.from({ length: snapshotRevision + 1 }, (_, n) => `k-${n}`).sort());

    // After a restart: loaded from the snapshot, every command answers as a full fold does.
    const restarted = await createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 5, streamCacheSize: 0, streamSnapshotsPath: path });
    const full = await new OpportunityStreams(store, 0).load(other);
    const loaded = await restarted.streams.load(other);
    expect(loaded.snapshotRevision).toBe(snapshotRevision);
    expectSameCommands(loaded, full, Array.from({ length: count }, (_, n) => `k-${n}`));
    // A retry of the first command, long before the snapshot, is answered, not decided again.
    const retried = await restarted.executor.execute(body(2), keyed(2));
    expect(retried).toEqual({ ...answers[2], replayed: true, appended: 0 });
    expect((await new OpportunityStreams(store, 0).load(other)).revision).toBe(full.revision);
    restarted.snapshots.close();
  });

  it('a recorded command row damaged or edited in place is never an answer nor a miss: the retry is answered from the stream read whole', async () => {
    const path = join(dir, 'snapshots-commands.db');
    const other = '5e4d3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c';
    const { keyed, body } = keyedCommands(other, 'd', 2);
    const count = SNAPSHOT_EVERY_EVENTS + 5;
    const side = await createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 5, streamCacheSize: 0, streamSnapshotsPath: path });
    const answers = [];
    for (let n = 0; n < count; n++) answers.push(await side.executor.execute(body(n), keyed(n)));
    side.snapshots.close();
    const head = (await new OpportunityStreams(store, 0).load(other)).revision;
    const otherStream = toOpportunityStreamId(other);
    const edits = [
      "'not json at all'",
      "substr(command, 1, 64) || '{}'",
      "substr(command, 1, 64) || json_set(substr(command, 65), '$.fingerprint', 'edited-in-place')",
      "substr(command, 1, 64) || json_set(substr(command, 65), '$.stage', 'won')",
      // Another command's row, seal and all: sealed for another id.
      `(SELECT command FROM stream_commands WHERE stream = '${otherStream}' AND command_id = 'd-3')`,
    ];
    for (const edit of edits) {
      const db = new Database(path);
      const saved = db.prepare('SELECT command FROM stream_commands WHERE stream = ? AND command_id = ?').get(otherStream, 'd-2') as { command: string } | undefined;
      expect(saved).toBeDefined();
      db.prepare(`UPDATE stream_commands SET command = ${edit} WHERE stream = ? AND command_id = 'd-2'`).run(otherStream);
      db.close();
      const restarted = await createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 5, streamCacheSize: 0, streamSnapshotsPath: path });
      // The retry of d-2 is answered as the first was, nothing decided or appended again.
      expect([edit, await restarted.executor.execute(body(2), keyed(2))]).toEqual([edit, { ...answers[2], replayed: true, appended: 0 }]);
      expect((await new OpportunityStreams(store, 0).load(other)).revision).toBe(head);
      restarted.snapshots.close();
      // The snapshot holding the damaged row was dropped, and the stream, read whole, snapshotted
      // afresh: with every command as it was first saved.
      const check = new Database(path, { readonly: true });
      expect([edit, (check.prepare('SELECT command FROM stream_commands WHERE stream = ? AND command_id = ?').get(otherStream, 'd-2') as { command: string }).command]).toEqual([edit, saved!.command]);
      check.close();
    }
  });

  it('stores no snapshot whose base is gone, so none rests on commands it does not hold', () => {
    const snapshots = getSQLiteStreamSnapshotStore(join(dir, 'snapshots-d.db'));
    const state = { status: 'none' } as const;
    snapshots.save({ stream: 'opportunity-x', revision: 60, position: 61, headHash: 'h', state, basedOn: 10, newCommands: [] });
    expect(snapshots.load('opportunity-x')).toBeUndefined();
    snapshots.save({ stream: 'opportunity-x', revision: 10, position: 11, headHash: 'h', state, newCommands: [['a', { fingerprint: 'f', attempt: 'x', revision: 3, position: 4, stage: 'new', status: 'open' }]] });
    snapshots.save({ stream: 'opportunity-x', revision: 60, position: 61, headHash: 'h', state, basedOn: 10, newCommands: [['b', { fingerprint: 'g', attempt: 'y', revision: 40, position: 41, stage: 'new', status: 'open' }]] });
    const loaded = snapshots.load('opportunity-x')!;
    expect(loaded.revision).toBe(60);
    expect([loaded.commandBefore('a')?.fingerprint, loaded.commandBefore('b')?.fingerprint, loaded.commandBefore('c')]).toEqual(['f', 'g', undefined]);
    snapshots.close();
  });

  // A write that fails (a full disk, a lock held past the busy timeout, an I/O error) fails for a
  // while: saving pauses, longer after each failure in a row but never past a minute, then resumes
  // by itself. Before, one failure stopped every snapshot until the process restarted.
  it('saves snapshots again once the cause of a failed write has passed, after a pause that grows with each failure but stays bounded', () => {
    const path = join(dir, 'snapshots-failing.db');
    const state = { status: 'open', stage: 'new', processId: 'standard', processVersion: 'v', criteriaMet: [] } as unknown as StreamSnapshotToSave['state'];
    const snapshot = (stream: string, revision: number): StreamSnapshotToSave => ({ stream, revision, position: revision + 1, headHash: 'h', state, newCommands: [['c', { fingerprint: `f${revision}`, attempt: 'a', revision: 0, position: 1, stage: 'new', status: 'open' }]] });
    const other = new Database(path);
    const warned = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
    jest.useFakeTimers();
    try {
      const snapshots = getSQLiteStreamSnapshotStore(path);
      // The cause: every write of a snapshot row fails, as on a full disk, until it is lifted.
      const failing = () => other.exec("CREATE TRIGGER failing BEFORE INSERT ON stream_snapshots BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
      const lifted = () => other.exec('DROP TRIGGER failing');
      const stored = (stream: string) => (other.prepare('SELECT count(*) AS n FROM stream_snapshots WHERE stream = ?').get(stream) as { n: number }).n;
      const saveAndFlush = (stream: string, revision: number) => {
        snapshots.save(snapshot(stream, revision));
        jest.advanceTimersByTime(1_000); // written behind
      };
      failing();
      saveAndFlush('opportunity-a', 60);
      expect(stored('opportunity-a')).toBe(0);
      lifted();
      // Commands keep working meanwhile: the snapshot that failed is simply not there.
      expect(snapshots.load('opportunity-a')).toBeUndefined();
      jest.advanceTimersByTime(60_000);
      saveAndFlush('opportunity-b', 70);
      expect(stored('opportunity-b')).toBe(1);
      expect(snapshots.load('opportunity-b')?.commandBefore('c')?.fingerprint).toBe('f70');
      // One extending the snapshot that failed is not stored: the commands before it are not in the file.
      snapshots.save({ ...snapshot('opportunity-a', 110), basedOn: 60 });
      jest.advanceTimersByTime(1_000);
      expect(stored('opportunity-a')).toBe(0);

      // Failing again and again: each failure is tried again later, never later than a minute on.
      failing();
      for (let n = 0; n < 12; n++) {
        saveAndFlush('opportunity-c', 80);
        jest.advanceTimersByTime(60_000);
      }
      expect(stored('opportunity-c')).toBe(0);
      lifted();
      saveAndFlush('opportunity-c', 80);
      expect(stored('opportunity-c')).toBe(1);
      snapshots.close();
    } finally {
      jest.useRealTimers();
      warned.mockRestore();
      other.close();
    }
  });

  // Instances on one store share STREAM_SNAPSHOTS_PATH by default (beside EVENT_STORE_PATH). One
  // whose write comes late (a busy event loop, a paused process) replaces the stream's rows with a
  // whole set of its own between another's check of its base and that one's write: the extension
  // must not then land on rows that no longer hold the commands before its base.
  it('on a file two instances share, an extension whose base another replaced before it was written is not stored', () => {
    const path = join(dir, 'snapshots-shared.db');
    const state = { status: 'open', stage: 'new', processId: 'standard', processVersion: 'v', criteriaMet: [] } as unknown as StreamSnapshotToSave['state'];
    const command = (revision: number) => ({ fingerprint: `f${revision}`, attempt: `a${revision}`, revision, position: revision + 1, stage: 'new', status: 'open' }) as const;
    const snapshot = (revision: number) => ({ stream: 'opportunity-y', revision, position: revision + 1, headHash: 'h', state });
    const first = getSQLiteStreamSnapshotStore(path);
    first.save({ ...snapshot(100), newCommands: [['early', command(3)], ['middle', command(80)]] });
    first.close();
    const late = getSQLiteStreamSnapshotStore(path);
    const other = getSQLiteStreamSnapshotStore(path);
    late.save({ ...snapshot(60), newCommands: [['early', command(3)]] }); // folded whole, written late
    other.save({ ...snapshot(150), basedOn: 100, newCommands: [['last', command(120)]] }); // its base 100 is in the file now
    late.close(); // the rows now hold revision 60 and the commands before it only
    // Every command before the snapshot a load gives is there to answer its retry: before the
    // late extension is written (on the instance holding it) and after.
    const answersEveryCommandBefore = (loaded: ReturnType<typeof other.load>) => {
      const before = (['early', 3, 'middle', 80, 'last', 120] as const).flatMap((id, i, all) => (i % 2 === 0 && (all[i + 1] as number) <= loaded!.revision ? [id as string] : []));
      expect(before.map((id) => [id, loaded!.commandBefore(id)?.fingerprint])).toEqual(before.map((id) => [id, expect.any(String)]));
    };
    answersEveryCommandBefore(other.load('opportunity-y'));
    other.close();
    const reader = getSQLiteStreamSnapshotStore(path);
    answersEveryCommandBefore(reader.load('opportunity-y'));
    reader.close();
  });
});
