import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCommandSide, type CommandEnvelope } from '@stagecraft/commands';
import { readSettings, type Settings } from '@stagecraft/config';
import { getSQLiteEventStore } from '@stagecraft/event-store';
import { EXIT } from '../cli.errors';
import { verifyChains } from './verify.command';

// `verify --all` reads the log in position order and `verify <id>` one stream by revision: for the
// same tampering both must name the same break (stream, revision, reason, detail), whatever the
// order the log holds the stream's events in.

const PROCESSES = join(__dirname, '..', '..', '..', '..', 'config', 'processes');

interface EventRow {
  readonly position: number;
  readonly type: string;
  readonly data: string;
  readonly metadata: string;
}
type Edit = (db: Database.Database, stream: string) => void;

const rowOf = (db: Database.Database, stream: string, revision: number) => db.prepare('SELECT position, type, data, metadata FROM events WHERE stream = ? AND revision = ?').get(stream, revision) as EventRow;

/** Revision 3 replaced by revision 1 as stored (its hash and prevHash too), and placed in the log before revision 2. */
const earlierEventMovedIn: Edit = (db, stream) => {
  const [one, two, three] = [rowOf(db, stream, 1), rowOf(db, stream, 2), rowOf(db, stream, 3)];
  db.prepare('UPDATE events SET position = -1 WHERE stream = ? AND revision = 2').run(stream);
  db.prepare('UPDATE events SET type = ?, data = ?, metadata = ?, position = ? WHERE stream = ? AND revision = 3').run(one.type, one.data, one.metadata, two.position, stream);
  db.prepare('UPDATE events SET position = ? WHERE stream = ? AND revision = 2').run(three.position, stream);
};

const TAMPERINGS: readonly { readonly name: string; readonly edit: Edit; readonly expected: { readonly revision: number; readonly reason: string } }[] = [
  { name: 'an earlier event of the stream moved in (revision 1 as revision 3, before revision 2 in the log)', edit: earlierEventMovedIn, expected: { revision: 3, reason: 'prev-hash-mismatch' } },
  {
    name: 'an earlier event of the stream copied over a later one, in its place in the log',
    edit: (db, stream) => {
      const one = rowOf(db, stream, 1);
      db.prepare('UPDATE events SET type = ?, data = ?, metadata = ? WHERE stream = ? AND revision = 3').run(one.type, one.data, one.metadata, stream);
    },
    expected: { revision: 3, reason: 'prev-hash-mismatch' },
  },
  {
    name: 'an earlier event renumbered into the place of a deleted later one, where it stands in the log',
    edit: (db, stream) => {
      db.prepare('DELETE FROM events WHERE stream = ? AND revision = 3').run(stream);
      db.prepare('UPDATE events SET revision = 3 WHERE stream = ? AND revision = 1').run(stream);
    },
    expected: { revision: 2, reason: 'revision-gap' },
  },
  { name: 'an altered event', edit: (db, stream) => db.prepare("UPDATE events SET data = json_set(data, '$.criterionId', 'goals') WHERE stream = ? AND revision = 2").run(stream), expected: { revision: 2, reason: 'hash-mismatch' } },
  // SQLite sorts text after every number: the event reads last by revision, after those stored after it.
  { name: 'a revision edited into text', edit: (db, stream) => db.prepare("UPDATE events SET revision = 'x' WHERE stream = ? AND revision = 2").run(stream), expected: { revision: 2, reason: 'unreadable' } },
  { name: 'a removed event', edit: (db, stream) => db.prepare('DELETE FROM events WHERE stream = ? AND revision = 2').run(stream), expected: { revision: 3, reason: 'revision-gap' } },
];

describe('verify --all and verify <id> on the same tampering', () => {
  let dir: string;
  let source: string;
  let id: string;
  let copies = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-verify-'));
    source = join(dir, 'events.db');
    const store = getSQLiteEventStore({ path: source });
    try {
      const side = await createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 5, streamCacheSize: 10 });
      id = crypto.randomUUID();
      const other = crypto.randomUUID();
      let day = 1;
      const envelope = (): CommandEnvelope => ({ commandId: crypto.randomUUID(), clientSuppliedId: false, correlationId: 'test', actor: 'test', authenticatedBy: 'test', now: `2026-01-${String(day++).padStart(2, '0')}T00:00:00.000Z` });
      // Two deals written turn by turn: each stream's events stand apart in the log.
      for (const opportunityId of [id, other]) await side.executor.execute({ type: 'OpenOpportunity', opportunityId, title: 'Deal', processId: 'standard' }, envelope());
      for (const opportunityId of [id, other]) await side.executor.execute({ type: 'MoveOpportunityToStage', opportunityId, stage: 'qualification' }, envelope());
      for (const criterionId of ['need-confirmed', 'budget-confirmed', 'pain-points']) {
        for (const opportunityId of [id, other]) await side.executor.execute({ type: 'MeetExitCriterion', opportunityId, criterionId }, envelope());
      }
    } finally {
      await store.close();
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A copy of the store, edited as an attacker with the file would. */
  const tampered = (edit: Edit): Settings => {
    copies += 1;
    const path = join(dir, `tampered-${copies}.db`);
    const from = new Database(source, { readonly: true });
    try {
      from.prepare('VACUUM INTO ?').run(path);
    } finally {
      from.close();
    }
    const db = new Database(path);
    try {
      edit(db, `opportunity-${id}`);
    } finally {
      db.close();
    }
    return readSettings({ EVENT_STORE_PATH: path, PROCESSES_DIR: PROCESSES }, dir);
  };
  const printed = async (run: () => Promise<number>): Promise<{ code: number; output: string }> => {
    const lines: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: unknown) => void lines.push(String(line)));
    try {
      return { code: await run(), output: lines.join('\n') };
    } finally {
      log.mockRestore();
    }
  };

  it.each(TAMPERINGS)('$name: the same break from both, by revision', async ({ edit, expected }) => {
    const settings = tampered(edit);
    const all = await printed(() => verifyChains(settings, undefined, { all: true, json: true }));
    const one = await printed(() => verifyChains(settings, id, { json: true }));
    expect([all.code, one.code]).toEqual([EXIT.failed, EXIT.failed]);
    const opportunity = JSON.parse(one.output).opportunity;
    expect(opportunity).toMatchObject({ ok: false, stream: `opportunity-${id}`, ...expected });
    expect(JSON.parse(all.output).broken).toEqual([opportunity]);
    // The lines a person reads say it in the same words.
    const brokenLine = (output: string) => output.split('\n').filter((line) => line.startsWith(`BROKEN: opportunity-${id}`));
    const allText = await printed(() => verifyChains(settings, undefined, { all: true }));
    const oneText = await printed(() => verifyChains(settings, id, {}));
    expect(brokenLine(allText.output)).toEqual(brokenLine(oneText.output));
    expect(brokenLine(oneText.output)).toHaveLength(1);
  });

  // SQLite numbers positions with AUTOINCREMENT, whose counter (sqlite_sequence) deleting rows does
  // not lower: the last events of the log cut, which nothing after them shows as a gap, are still
  // missing against it (a forger who resets the counter too is caught only by a kept head).
  const lastPosition = (db: Database.Database) => (db.prepare('SELECT max(position) AS last FROM events').get() as { last: number }).last;
  const logBreaks = async (settings: Settings) => {
    const run = await printed(() => verifyChains(settings, undefined, { all: true, json: true }));
    const report = JSON.parse(run.output) as { logBreaks: { reason: string; position: number; detail: string }[]; keep: string | null };
    return { code: run.code, logBreaks: report.logBreaks, keep: report.keep };
  };

  it('the last events of the log cut: position-gap against the store\'s counter, no head to keep', async () => {
    let last = 0;
    const settings = tampered((db) => {
      last = lastPosition(db);
      db.prepare('DELETE FROM events WHERE position >= ?').run(last - 1);
    });
    expect(await logBreaks(settings)).toEqual({
      code: EXIT.failed,
      logBreaks: [{ reason: 'position-gap', position: last - 1, detail: `positions ${last - 1}–${last} are missing: 2 event(s) cut from the end of the log (the store has numbered events up to ${last}; the log now ends at ${last - 2})` }],
      keep: null,
    });
  });

  it('the last event renumbered past what the store numbered: named, beside the gap it leaves', async () => {
    let last = 0;
    const settings = tampered((db) => {
      last = lastPosition(db);
      db.prepare('UPDATE events SET position = ? WHERE position = ?').run(last + 5, last);
    });
    const { code, logBreaks: breaks } = await logBreaks(settings);
    expect(code).toBe(EXIT.failed);
    expect(breaks).toContainEqual({ reason: 'position-order', position: last + 5, detail: `the log ends at position ${last + 5}, past the last position the store has numbered (${last}): positions, or the store's counter of them, were rewritten outside the service` });
  });

  it('an untouched copy: intact, the counter agreeing with the log', async () => {
    expect(await logBreaks(tampered(() => undefined))).toMatchObject({ code: EXIT.ok, logBreaks: [] });
  });
});
