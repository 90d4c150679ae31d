import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readSettings, type Settings } from '@stagecraft/config';
import { openEventStore, type StoredEvent } from '@stagecraft/event-store';
import { startKurrentDbDouble, type KurrentDbDouble } from '../../../../test/kurrentdb-double/kurrentdb-double';
import { EXIT } from '../cli.errors';
import { exportEvents } from './export.command';
import { importFile } from './import.command';

/** The shipped process files. */
const PROCESSES = join(__dirname, '..', '..', '..', '..', 'config', 'processes');

interface ImportReportSeen {
  readonly exit: number;
  readonly imported: number;
  readonly unchanged: number;
  readonly eventsAppended: number;
  readonly rejected: unknown[];
}

/** Runs `stagecraft import <file> --json` quietly: its exit code and the report it printed last. */
async function importReport(settings: Settings, file: string): Promise<ImportReportSeen> {
  const printed: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
  let exit: number;
  try {
    exit = await importFile(settings, file, { json: true });
  } finally {
    log.mockRestore();
  }
  return { exit, ...(JSON.parse(printed.at(-1)!) as Omit<ImportReportSeen, 'exit'>) };
}

/**
 * The rows of a backfill CSV imported into a store of their own (`<name>.db` in `dir`), then
 * exported quietly as JSON lines (`<name>.jsonl`): a log to import elsewhere. Its path.
 */
async function exportedBackfill(dir: string, name: string, csv: string): Promise<string> {
  const rows = join(dir, `${name}.csv`);
  writeFileSync(rows, csv);
  const source = readSettings({ EVENT_STORE_PATH: join(dir, `${name}.db`), PROCESSES_DIR: PROCESSES }, dir);
  expect((await importReport(source, rows)).exit).toBe(EXIT.ok);
  const exported = join(dir, `${name}.jsonl`);
  const quiet = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    expect(await exportEvents(source, { format: 'jsonl', out: exported })).toBe(EXIT.ok);
  } finally {
    quiet.mockRestore();
  }
  return exported;
}

/** The events of the opportunities' streams the store holds, in log order. */
async function opportunityEvents(settings: Settings): Promise<StoredEvent[]> {
  const store = openEventStore(settings);
  try {
    return (await store.readAll()).filter((event) => event.stream.startsWith('opportunity-'));
  } finally {
    await store.close();
  }
}

// An import that loses its store mid-way (KurrentDB not ready, restarting, away) stops there with
// exit 3: the line it stopped on is neither imported nor rejected (nothing is wrong with it), the
// lines after it are not read, and a second run once the store answers imports the rest, so that
// the store ends as one uninterrupted run would leave it.
describe('stagecraft import when the store stops answering', () => {
  let double: KurrentDbDouble;
  let dir: string;
  const quietly = async <T>(work: () => Promise<T>): Promise<T> => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      return await work();
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  };
  const openings = () => {
    const deals = Array.from({ length: 60 }, (_, i) => `SF-${2000 + i},2025-01-${String((i % 28) + 1).padStart(2, '0')}T09:00:00Z,new,,,standard,Deal ${i},direct,ana,${1000 + i},EUR,`);
    return ['opportunityId,occurredAt,stage,outcome,lostReason,processId,title,teamId,ownerId,amount,currency,note', ...deals].join('\n');
  };

  beforeAll(async () => {
    double = await startKurrentDbDouble();
    dir = mkdtempSync(join(tmpdir(), 'import-store-lost-'));
  });
  afterAll(async () => {
    await double?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stops with exit 3, rejecting nothing; a second run imports the rest, once', async () => {
    const settings = readSettings({ EVENT_STORE_URL: double.url, PROCESSES_DIR: PROCESSES, EVENT_STORE_PATH: join(dir, 'unused.db') }, dir);
    // A first deal alone: the process versions are recorded, so the refusal below falls on the import's own appends.
    const first = join(dir, 'first.csv');
    writeFileSync(first, openings().split('\n').slice(0, 2).join('\n'));
    expect(await quietly(() => importFile(settings, first, { json: true }))).toBe(EXIT.ok);

    const file = join(dir, 'deals.csv');
    writeFileSync(file, openings());
    double.faults.refuseAppends('not-ready', 1);
    const reports: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((text: string) => void reports.push(text));
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    let stopped: number;
    try {
      stopped = await importFile(settings, file, { json: true });
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
    expect(stopped).toBe(EXIT.unavailable);
    const report = JSON.parse(reports.at(-1)!) as { rejected: unknown[]; imported: number; lines: number };
    expect(report.rejected).toEqual([]);
    expect(report.imported).toBeLessThan(60);

    expect(await quietly(() => importFile(settings, file, { json: true }))).toBe(EXIT.ok);
    const opened = Array.from({ length: double.log.length }, (_, index) => double.log.at(index)).filter((record) => record.type === 'OpportunityOpened');
    expect(opened).toHaveLength(60);
    expect(new Set(opened.map((record) => record.stream)).size).toBe(60);
  });
});

// The same on SQLite: another process holding the file's write lock past the busy timeout (a
// sqlite3 shell with a transaction open) is the store away for now — exit 3, nothing rejected —
// not every line rejected as "database is locked" with exit 1, as if the lines were at fault.
describe('stagecraft import on a SQLite store another process holds locked', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'import-store-locked-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stops with exit 3, rejecting nothing; once the lock is let go, a second run imports the file', async () => {
    const settings = readSettings({ PROCESSES_DIR: PROCESSES, EVENT_STORE_PATH: join(dir, 'events.db') }, dir);
    const file = join(dir, 'deals.csv');
    writeFileSync(file, ['opportunityId,occurredAt,stage,outcome,lostReason,processId,title,teamId,ownerId,amount,currency,note', 'SF-1,2025-01-06T09:00:00Z,new,,,standard,One,direct,ana,100,EUR,', 'SF-2,2025-01-07T09:00:00Z,new,,,standard,Two,direct,ana,200,EUR,'].join('\n'));
    // The store made and its process versions recorded, then another connection takes the write lock.
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, 'opportunityId,occurredAt,stage,outcome,lostReason,processId,title,teamId,ownerId,amount,currency,note\n');
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect((await importReport(settings, empty)).exit).toBe(EXIT.ok);
      const other = new Database(join(dir, 'events.db'));
      other.exec('BEGIN IMMEDIATE');
      let locked: ImportReportSeen;
      try {
        locked = await importReport(settings, file);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      expect(locked.exit).toBe(EXIT.unavailable);
      expect(locked.rejected).toEqual([]);
      expect(error.mock.calls.flat().join('\n')).toMatch(/locked by another process/);
    } finally {
      error.mockRestore();
    }
    const again = await importReport(settings, file);
    expect([again.exit, again.imported, again.rejected]).toEqual([EXIT.ok, 2, []]);
  }, 60_000);
});

// Two runs of one backfill side by side (an operator's retry while the first still runs): every
// command id derives from the row, so the store ends as one run leaves it, and the two reports
// together count each appended event once — a step the other run recorded first is replayed, not
// imported again.
describe('stagecraft import of one backfill twice at once', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'import-twice-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends each event once, and the reports say so', async () => {
    const rows = ['opportunityId,occurredAt,stage,processId,title'];
    for (let deal = 0; deal < 40; deal += 1) {
      rows.push(`SF-${deal},2025-01-02T09:00:00Z,new,standard,Deal ${deal}`, `SF-${deal},2025-01-03T09:00:00Z,qualification,,`, `SF-${deal},2025-01-04T09:00:00Z,proposition,,`);
    }
    const file = join(dir, 'deals.csv');
    writeFileSync(file, `${rows.join('\n')}\n`);
    const settings = readSettings({ EVENT_STORE_PATH: join(dir, 'events.db'), PROCESSES_DIR: PROCESSES }, dir);
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
    let exits: number[];
    try {
      exits = await Promise.all([importFile(settings, file, { json: true }), importFile(settings, file, { json: true })]);
    } finally {
      log.mockRestore();
    }
    expect(exits).toEqual([EXIT.ok, EXIT.ok]);
    const reports = printed.map((text) => JSON.parse(text) as { imported: number; unchanged: number; eventsAppended: number });
    const stored = (await opportunityEvents(settings)).length;
    // Per deal: opened, moved, the five qualification criteria met, moved again.
    expect(stored).toBe(40 * 8);
    expect(reports[0]!.eventsAppended + reports[1]!.eventsAppended).toBe(stored);
    expect(reports[0]!.imported + reports[0]!.unchanged).toBe(rows.length - 1);
  }, 120_000);
});

// The report's count of events appended is the store's: a row whose command records two events
// (an opening with its expected close date, a change of amount and date) counts two.
describe('stagecraft import reports the events it appended', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'import-counted-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('counts every event a row records, and none on a re-run', async () => {
    const rows = [
      'opportunityId,occurredAt,stage,processId,title,amount,expectedCloseDate',
      'SF-1,2025-01-02T09:00:00Z,new,standard,Deal one,100,2025-03-31',
      'SF-1,2025-01-03T09:00:00Z,new,,,200,2025-04-30',
      'SF-1,2025-01-04T09:00:00Z,qualification,,,,',
      'SF-2,2025-01-02T09:00:00Z,new,standard,Deal two,,',
    ];
    const file = join(dir, 'deals.csv');
    writeFileSync(file, `${rows.join('\n')}\n`);
    const settings = readSettings({ EVENT_STORE_PATH: join(dir, 'events.db'), PROCESSES_DIR: PROCESSES }, dir);
    const first = await importReport(settings, file);
    const stored = (await opportunityEvents(settings)).map((event) => event.type);
    expect(stored.filter((type) => type === 'ExpectedCloseDateChanged')).toHaveLength(2);
    expect(first).toMatchObject({ exit: EXIT.ok, imported: 4, eventsAppended: stored.length });
    expect(await importReport(settings, file)).toMatchObject({ exit: EXIT.ok, imported: 0, eventsAppended: 0 });
  }, 60_000);
});

// A backfill's command ids derive from each row's content, so a re-run appends nothing. The same
// content twice in one file is two facts all the same (an amount changed back and forth on a day
// the source kept by the day): the second must not be taken for the first already recorded.
describe('stagecraft import of a backfill whose rows repeat', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'import-repeat-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('records a repeated row where it stands in the file, and a re-run appends nothing', async () => {
    const rows = ['opportunityId,occurredAt,stage,processId,title,amount', 'SF-9,2025-01-06T00:00:00Z,new,standard,Deal,100', 'SF-9,2025-01-07T00:00:00Z,new,,,200', 'SF-9,2025-01-07T00:00:00Z,new,,,300', 'SF-9,2025-01-07T00:00:00Z,new,,,200'];
    const file = join(dir, 'repeat.csv');
    writeFileSync(file, `${rows.join('\n')}\n`);
    const settings = readSettings({ EVENT_STORE_PATH: join(dir, 'events.db'), PROCESSES_DIR: PROCESSES }, dir);
    const amounts = async () => (await opportunityEvents(settings)).map((event) => event.data.amount);
    expect(await importReport(settings, file)).toMatchObject({ exit: EXIT.ok, imported: 4, unchanged: 0 });
    expect(await amounts()).toEqual([100, 200, 300, 200]);
    expect(await importReport(settings, file)).toMatchObject({ exit: EXIT.ok, imported: 0, unchanged: 4 });
    expect(await amounts()).toEqual([100, 200, 300, 200]);
  }, 60_000);

  it('counts a line repeated out of its place in business time unchanged, as before repeats were keyed, and imports the rows after it', async () => {
    // Line 4 is line 2 again, dated before line 3: no later fact. Keyed as a repeat and planned, it was
    // refused (business time going backwards) with line 5 after it, on a first run and on the re-run of
    // a file an earlier version had imported whole (it took line 4 for line 2, as this run must).
    const rows = ['opportunityId,occurredAt,stage,processId,title', 'SF-8,2025-01-06T00:00:00Z,new,standard,Deal', 'SF-8,2025-01-07T00:00:00Z,qualification,,', 'SF-8,2025-01-06T00:00:00Z,new,standard,Deal', 'SF-8,2025-01-08T00:00:00Z,proposition,,'];
    const file = join(dir, 'duplicated.csv');
    writeFileSync(file, `${rows.join('\n')}\n`);
    const settings = readSettings({ EVENT_STORE_PATH: join(dir, 'duplicated.db'), PROCESSES_DIR: PROCESSES }, dir);
    expect(await importReport(settings, file)).toMatchObject({ exit: EXIT.ok, imported: 3, unchanged: 1, rejected: [] });
    expect(await importReport(settings, file)).toMatchObject({ exit: EXIT.ok, imported: 0, unchanged: 4, rejected: [] });
    const moves = (await opportunityEvents(settings)).filter((event) => event.type === 'StageChanged').map((event) => (event.data as { to: string }).to);
    expect(moves).toEqual(['qualification', 'proposition']);
  }, 60_000);
});

// A row closing a closed deal the same way is a repeat, with nothing to record, only when it says
// what the close holds: one whose note differs is another close, refused naming the column, not
// counted unchanged with its note left out of the history.
describe('stagecraft import of a close repeated with another note', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'import-close-note-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['lost', ['new'], 'new,lost,price'],
    ['won', ['new', 'qualification', 'proposition'], 'negotiation,won,'],
  ])('a %s deal: the same note (or none) is a repeat, another note is refused', async (status, before, close) => {
    const id = `SF-${status}`;
    const rows = [
      'opportunityId,occurredAt,processId,title,stage,outcome,lostReason,note',
      ...before.map((stage, day) => `${id},2025-01-0${day + 1}T00:00:00Z,standard,Deal,${stage},,,`),
      `${id},2025-01-05T00:00:00Z,,,${close},first note`,
      `${id},2025-01-06T00:00:00Z,,,${close},first note`,
      `${id},2025-01-07T00:00:00Z,,,${close},`,
      `${id},2025-01-08T00:00:00Z,,,${close},"second, other note"`,
    ];
    const file = join(dir, `${status}.csv`);
    writeFileSync(file, `${rows.join('\r\n')}\r\n`);
    const settings = readSettings({ EVENT_STORE_PATH: join(dir, `${status}.db`), PROCESSES_DIR: PROCESSES }, dir);
    const report = await importReport(settings, file);
    const last = rows.length;
    expect(report).toMatchObject({ exit: EXIT.failed, imported: before.length + 1, unchanged: 2, rejected: [{ line: last, reason: expect.stringMatching(/^note: the deal is .* "first note"/) }] });
    const closes = (await opportunityEvents(settings)).filter((event) => event.type === (status === 'won' ? 'OpportunityWon' : 'OpportunityLost'));
    expect(closes.map((event) => event.data.note)).toEqual(['first note']);
  }, 60_000);
});

// The summary says what it skipped: an export of a backfilled store holds a claim of each opening's
// key beside its two process version records, and "skipped: 3 (process version records…)" named
// only the two.
describe('stagecraft import of an export: the summary names what it skipped', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'import-skipped-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('process version records and opening key claims, each counted', async () => {
    const exported = await exportedBackfill(dir, 'log', 'opportunityId,occurredAt,stage,processId,title\nSF-1,2025-01-01T00:00:00Z,new,standard,Deal\n');
    const types = readFileSync(exported, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { type: string }).type);
    const claims = types.filter((type) => type === 'CommandKeyClaimed').length;
    const versions = types.filter((type) => type === 'ProcessVersionRecorded').length;
    expect([claims, versions]).toEqual([1, 2]);
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
    try {
      expect(await importFile(readSettings({ EVENT_STORE_PATH: join(dir, 'target.db'), PROCESSES_DIR: PROCESSES }, dir), exported, {})).toBe(EXIT.ok);
    } finally {
      log.mockRestore();
    }
    expect(printed.join('\n')).toContain(`skipped:   3 (${versions} process version record(s) and ${claims} opening key claim(s): this store writes its own)`);
  }, 60_000);
});

// A UUID's capitals name one deal everywhere: lines that write it differently are that deal's
// lines all the same, run in file order, and a rejected one stops those after it.
describe('stagecraft import of lines that write one deal id in different capitals', () => {
  let dir: string;
  const UPPER = '6F2574AB-D0E8-5F65-ACEF-6B0B2AD050FC';
  const LOWER = UPPER.toLowerCase();
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'import-capitals-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = async (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    const settings = readSettings({ EVENT_STORE_PATH: join(dir, `${name}.db`), PROCESSES_DIR: PROCESSES }, dir);
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    try {
      await importFile(settings, file, { json: true });
    } finally {
      log.mockRestore();
    }
    const store = openEventStore(settings);
    try {
      const events = (await store.readAll()).filter((event) => event.stream.startsWith('opportunity-'));
      return { report: JSON.parse(printed.at(-1)!) as { rejected: { line: number; reason: string }[] }, types: events.map((event) => event.type), events };
    } finally {
      await store.close();
    }
  };

  it('a backfill: the rows run in file order', async () => {
    const rows = ['opportunityId,occurredAt,stage,processId,title', `${UPPER},2025-01-06T00:00:00Z,new,standard,Deal`, `${LOWER},2025-01-07T00:00:00Z,qualification,,`, `${UPPER},2025-01-08T00:00:00Z,proposition,,`];
    const { report, types } = await run('rows.csv', `${rows.join('\n')}\n`);
    expect(report.rejected).toEqual([]);
    expect(types).toEqual(['OpportunityOpened', 'StageChanged', ...Array<string>(5).fill('ExitCriterionMet'), 'StageChanged']);
  }, 60_000);

  it('a backfill: a rejected row stops the rows after it written in other capitals', async () => {
    const rows = ['opportunityId,occurredAt,stage,processId,title', `${UPPER},2025-01-06T00:00:00Z,new,standard,Deal`, `${LOWER},2025-01-07T00:00:00Z,negotiation,,`, `${UPPER},2025-01-08T00:00:00Z,qualification,,`];
    const { report, types } = await run('broken.csv', `${rows.join('\n')}\n`);
    expect(report.rejected.map(({ line, reason }) => [line, reason.slice(0, 32)])).toEqual([
      [3, 'stage: OPPORTUNITY.SKIP_NOT_ALLO'],
      [4, 'follows line 3, which was reject'],
    ]);
    expect(types).toEqual(['OpportunityOpened']);
  }, 60_000);

  it('an exported log: its lines run in file order', async () => {
    const { events } = await run('source.csv', `opportunityId,occurredAt,stage,processId,title\n${LOWER},2025-01-06T00:00:00Z,new,standard,Deal\n${LOWER},2025-01-07T00:00:00Z,qualification,,\n`);
    const lines = events.map(({ stream, revision, id, type, data, metadata }, n) => {
      const upper = n % 2 === 0;
      return JSON.stringify({ stream: upper ? `opportunity-${UPPER}` : stream, revision, id, type, data: upper ? { ...data, opportunityId: UPPER } : data, metadata });
    });
    const { report, types } = await run('log.jsonl', `${lines.join('\n')}\n`);
    expect(report.rejected).toEqual([]);
    expect(types).toEqual(['OpportunityOpened', 'StageChanged']);
  }, 60_000);
});

// An import that cannot open its store reads none of its file, and lets it go: a stream left open
// and unread kept the file's descriptor, or (opened late, the file gone by then) emitted an ENOENT
// no one listened to, which ended the process.
describe('stagecraft import that cannot open its store', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'import-no-store-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const holds = (file: string) =>
    readdirSync('/proc/self/fd').some((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  const ticks = async (count: number) => {
    for (let n = 0; n < count; n += 1) await new Promise((resolve) => setImmediate(resolve));
  };

  // Open files are seen in /proc/self/fd: skipped (visibly) where there is none.
  (existsSync('/proc/self/fd') ? it : it.skip).each(['log.jsonl', 'rows.csv'])('%s: fails and keeps no hold on the file (needs /proc/self/fd)', async (name) => {
    const file = join(dir, name);
    writeFileSync(file, name.endsWith('.csv') ? 'opportunityId,occurredAt\nSF-1,2025-01-01T00:00:00Z\n' : '{}\n');
    const settings = readSettings({ EVENT_STORE_PATH: join(dir, 'events.db'), PROCESSES_DIR: join(dir, 'no-processes') }, dir);
    await expect(importFile(settings, file, { json: true })).rejects.toThrow(/^Invalid setting PROCESSES_DIR: .*no-processes does not exist$/);
    // The CSV's header was read (its stream is open for sure); letting it go closes it within a few turns.
    for (let turn = 0; turn < 200 && holds(file); turn += 1) await ticks(1);
    expect(holds(file)).toBe(false);
  });
});

// A process whose file is removed is retired: its deals go on under the versions they recorded, as
// over HTTP (the executor reads them from the process stream when it first meets one). The backfill
// planned a row on the deal's version without reading it first, and refused every later row of such
// a deal with PROCESS.NOT_FOUND.
describe('stagecraft import of a backfill on a retired process', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'import-retired-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('moves and closes its deals under their recorded version; opens none on it', async () => {
    const run = async (processes: string, name: string, rows: string[]) => {
      const file = join(dir, name);
      writeFileSync(file, `${['opportunityId,occurredAt,stage,outcome,processId,title,teamId', ...rows].join('\n')}\n`);
      const settings = readSettings({ EVENT_STORE_PATH: join(dir, 'events.db'), PROCESSES_DIR: processes }, dir);
      const printed: string[] = [];
      const log = jest.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
      const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        const exit = await importFile(settings, file, { json: true });
        return { exit, report: JSON.parse(printed.at(-1)!) as { imported: number; rejected: { line: number; reason: string }[] } };
      } finally {
        log.mockRestore();
        error.mockRestore();
      }
    };
    expect((await run(PROCESSES, 'opened.csv', ['IS-1,2025-01-01T09:00:00Z,lead,,inside-sales,Deal,inside'])).report.imported).toBe(1);
    const standardOnly = join(dir, 'standard-only');
    mkdirSync(standardOnly);
    copyFileSync(join(PROCESSES, 'standard.yaml'), join(standardOnly, 'standard.yaml'));

    const later = await run(standardOnly, 'later.csv', ['IS-1,2025-01-02T09:00:00Z,quote,,,,', 'IS-1,2025-01-03T09:00:00Z,,won,,,', 'IS-2,2025-01-02T09:00:00Z,lead,,inside-sales,Deal,inside']);
    expect(later.report.rejected.map(({ line, reason }) => [line, reason.split(': ').slice(0, 2).join(': ')])).toEqual([[4, 'processId: PROCESS.NOT_FOUND']]);
    expect(later.report.imported).toBe(2);
    const store = openEventStore(readSettings({ EVENT_STORE_PATH: join(dir, 'events.db'), PROCESSES_DIR: standardOnly }, dir));
    try {
      const types = (await store.readAll()).filter((event) => event.stream.startsWith('opportunity-')).map((event) => event.type);
      expect(types).toEqual(['OpportunityOpened', 'ExitCriterionMet', 'StageChanged', 'ExitCriterionMet', 'OpportunityWon']);
    } finally {
      await store.close();
    }
  }, 60_000);
});

// An import run again on EVENT_STORE_URL with nodePreference=follower, while the follower lags
// behind the leader that took the first run's events: each line is the event the store holds, so
// the second run reports every line unchanged, never "another event at revision …" for an event
// the follower does not show yet.
describe('stagecraft import run again while the follower it reads from lags', () => {
  let double: KurrentDbDouble;
  let dir: string;
  let thaw: (() => void) | undefined;
  beforeAll(async () => {
    double = await startKurrentDbDouble();
    dir = mkdtempSync(join(tmpdir(), 'import-follower-'));
  });
  afterAll(async () => {
    thaw?.();
    await double?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the second run finds every event in place: unchanged, none rejected', async () => {
    const exported = await exportedBackfill(dir, 'log', 'opportunityId,occurredAt,stage,processId,title\nSF-1,2025-01-01T00:00:00Z,new,standard,Deal\nSF-1,2025-01-02T00:00:00Z,qualification,,\nSF-1,2025-01-03T00:00:00Z,proposition,,\n');
    const target = readSettings({ EVENT_STORE_URL: `${double.url}&nodePreference=follower`, PROCESSES_DIR: PROCESSES, EVENT_STORE_PATH: join(dir, 'unused.db') }, dir);
    thaw = double.faults.freezeFollower();
    const first = await importReport(target, exported);
    expect(first).toMatchObject({ exit: EXIT.ok, rejected: [] });

    const again = await importReport(target, exported);
    expect(again).toMatchObject({ exit: EXIT.ok, imported: 0, unchanged: first.imported, rejected: [] });
  }, 60_000);

  it('a log imported in two files, the second just after the first: its lines follow the first file\'s events, not "the events between are not in the file"', async () => {
    const exported = await exportedBackfill(dir, 'log-2', 'opportunityId,occurredAt,stage,processId,title\nSF-2,2025-01-01T00:00:00Z,new,standard,Deal\nSF-2,2025-01-02T00:00:00Z,qualification,,\nSF-2,2025-01-03T00:00:00Z,proposition,,\n');
    const lines = readFileSync(exported, 'utf8').trim().split('\n');
    const last = lines.findLastIndex((line) => (JSON.parse(line) as { stream: string }).stream.startsWith('opportunity-'));
    writeFileSync(join(dir, 'part-1.jsonl'), `${lines.filter((_, index) => index !== last).join('\n')}\n`);
    writeFileSync(join(dir, 'part-2.jsonl'), `${lines[last]}\n`);
    const target = readSettings({ EVENT_STORE_URL: `${double.url}&nodePreference=follower`, PROCESSES_DIR: PROCESSES, EVENT_STORE_PATH: join(dir, 'unused.db') }, dir);
    thaw ??= double.faults.freezeFollower();
    expect(await importReport(target, join(dir, 'part-1.jsonl'))).toMatchObject({ exit: EXIT.ok, rejected: [] });

    expect(await importReport(target, join(dir, 'part-2.jsonl'))).toMatchObject({ exit: EXIT.ok, imported: 1, rejected: [] });
  }, 60_000);
});

// An EVENT_STORE_PATH left unset (./data/events.db of wherever the import runs), mistyped, or naming
// another copy makes a new store: the import must say where it went, and that the store is new,
// or it exits 0 as if the service's own store now held the lines.
describe('stagecraft import says which store it imported into', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-import-into-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file, and says when the import made it', async () => {
    const rows = join(dir, 'rows.csv');
    writeFileSync(rows, 'opportunityId,occurredAt,stage,processId,title\nSF-1,2025-01-01T00:00:00Z,new,standard,Deal\n');
    const path = join(dir, 'typo', 'event.db');
    const settings = readSettings({ EVENT_STORE_PATH: path, PROCESSES_DIR: PROCESSES }, dir);
    expect(await importReport(settings, rows)).toMatchObject({ exit: EXIT.ok, imported: 1, store: path, storeCreated: true });
    expect(await importReport(settings, rows)).toMatchObject({ exit: EXIT.ok, unchanged: 1, store: path, storeCreated: false });
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((text: string) => void printed.push(text));
    try {
      expect(await importFile(readSettings({ EVENT_STORE_PATH: join(dir, 'other.db'), PROCESSES_DIR: PROCESSES }, dir), rows)).toBe(EXIT.ok);
    } finally {
      log.mockRestore();
    }
    expect(printed.join('\n')).toContain(`Imported ${rows} (backfill rows) into ${join(dir, 'other.db')}: 1 line(s)`);
    expect(printed.join('\n')).toContain(`${join(dir, 'other.db')} did not exist: this import made a new store there (EVENT_STORE_PATH)`);
  }, 60_000);
});
