import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadProcessFile, readSettings } from '@stagecraft/config';
import { openEventStore } from '@stagecraft/event-store';
import { compileProcess } from '@stagecraft/sales-process';
import { EXIT } from '../cli.errors';
import { importFile, type ImportReport } from './import.command';
import { opportunityIdFor } from '../io/opportunity-id';

// The executor and decide() trust the field values they are given; the API's DTOs judge them. An
// import (an export's events, or backfill rows) is held to the same field rules, or it recorded a
// title {"a": 1} that GET /opportunities/:id then answered as such.
describe('stagecraft import: fields the API would refuse', () => {
  const PROCESSES = join(__dirname, '..', '..', '..', '..', 'config', 'processes');
  const version = compileProcess(loadProcessFile(join(PROCESSES, 'standard.yaml')).definition).version;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'import-fields-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function run(name: string, text: string): Promise<{ exit: number; report: ImportReport; streams: string[] }> {
    const file = join(dir, name);
    writeFileSync(file, text);
    const settings = readSettings({ EVENT_STORE_PATH: join(dir, `${name}.db`), PROCESSES_DIR: PROCESSES }, dir);
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    let exit: number;
    try {
      exit = await importFile(settings, file, { json: true });
    } finally {
      log.mockRestore();
    }
    const store = openEventStore(settings);
    try {
      const streams = [...new Set((await store.readAll()).map((event) => event.stream).filter((stream) => stream.startsWith('opportunity-')))];
      return { exit, report: JSON.parse(printed.at(-1)!) as ImportReport, streams };
    } finally {
      await store.close();
    }
  }

  it('an exported log: each such line is rejected naming the data field, and only the valid deal is recorded', async () => {
    const ids = Array.from({ length: 7 }, (_, n) => `0b3c8a52-6a1f-4c3e-9d55-3f1f6f0a7e0${n}`);
    const opened = (n: number, data: Record<string, unknown>) => ({
      id: `e${n}`,
      stream: `opportunity-${ids[n]}`,
      revision: 0,
      type: 'OpportunityOpened',
      data: { opportunityId: ids[n], occurredAt: '2026-01-02T09:00:00Z', processId: 'standard', processVersion: version, stage: 'new', title: 'Deal', ...data },
      metadata: {},
    });
    const lines = [
      opened(0, {}),
      opened(1, { title: { a: 1 } }),
      opened(2, { title: 12345 }),
      opened(3, { title: 'x'.repeat(5000) }),
      opened(4, { title: '   ' }),
      opened(5, { amount: 100, currency: 'eur' }),
      { id: 'e6', stream: `opportunity-${ids[0]}`, revision: 1, type: 'StageChanged', data: { opportunityId: ids[0], occurredAt: '2026-01-03T09:00:00Z', from: 'new', to: 'qualification', direction: 'forward', note: 'n'.repeat(2001) }, metadata: {} },
    ];
    const { exit, report, streams } = await run('log.jsonl', `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    expect(exit).toBe(EXIT.failed);
    expect(report.rejected.map(({ line, reason }) => [line, reason.replace(/ \(got .*$/, '')])).toEqual([
      [2, 'data.title: must be a string of 1 to 200 characters with a visible character'],
      [3, 'data.title: must be a string of 1 to 200 characters with a visible character'],
      [4, 'data.title: must be a string of 1 to 200 characters with a visible character'],
      [5, 'data.title: must be a string of 1 to 200 characters with a visible character'],
      [6, 'data.currency: must be an ISO 4217 code of 3 capital letters, such as EUR'],
      [7, 'data.note: must be a string of 1 to 2000 characters with a visible character'],
    ]);
    expect(report.imported).toBe(1);
    expect(streams).toEqual([`opportunity-${ids[0]}`]);
  });

  // Until 2026-11-29 the API took a body's null for an omitted optional field and recorded it as
  // given: such a log holds `note: null` and `nextSteps: null`, facts the import brings in as they are.
  it('an exported log whose note or next steps an earlier version recorded as null or drawing nothing: imported as it is', async () => {
    const id = '0b3c8a52-6a1f-4c3e-9d55-3f1f6f0a7e10';
    const line = (revision: number, type: string, day: number, data: Record<string, unknown>) => ({
      id: `n${revision}`,
      stream: `opportunity-${id}`,
      revision,
      type,
      data: { opportunityId: id, occurredAt: `2026-01-0${day}T09:00:00.000Z`, ...data },
      metadata: { actor: 'api-key:crm' },
    });
    const lines = [
      line(0, 'OpportunityOpened', 1, { processId: 'standard', processVersion: version, stage: 'new', title: 'Deal' }),
      line(1, 'StageChanged', 2, { from: 'new', to: 'qualification', direction: 'forward', note: null }),
      line(2, 'ExitCriterionMet', 3, { stage: 'qualification', criterionId: 'goals', note: null }),
      line(3, 'OpportunityLost', 4, { stage: 'qualification', reason: 'price', note: null, nextSteps: null }),
      line(4, 'OpportunityReopened', 5, { stage: 'qualification', note: null }),
      // Until 2026-11-30 a note or next steps that drew nothing was taken too: facts of the log as well.
      line(5, 'ExitCriterionMet', 6, { stage: 'qualification', criterionId: 'budget-confirmed', note: '   ' }),
      line(6, 'OpportunityLost', 7, { stage: 'qualification', reason: 'price', note: '\u200b', nextSteps: '\t' }),
    ];
    const { exit, report } = await run('nulls.jsonl', `${lines.map((entry) => JSON.stringify(entry)).join('\n')}\n`);
    expect(report).toMatchObject({ imported: 7, rejected: [] });
    expect(exit).toBe(EXIT.ok);
    const store = openEventStore(readSettings({ EVENT_STORE_PATH: join(dir, 'nulls.jsonl.db'), PROCESSES_DIR: PROCESSES }, dir));
    try {
      const stored = (await store.readStream(`opportunity-${id}`)).map(({ type, data }) => ({ type, data }));
      expect(stored).toEqual(lines.map(({ type, data }) => ({ type, data })));
    } finally {
      await store.close();
    }
  });

  // Ids as the API's routes and bodies check them: no deal the API could never address (an id that
  // is not a UUID), nor a team or owner no filter or team-limited key can name.
  it('an exported log: a deal id that is not a UUID, or a team or owner outside the id rule, is rejected with its reason, and every other line imported', async () => {
    const GOOD = '0b3c8a52-6a1f-4c3e-9d55-3f1f6f0a7e01';
    const opened = (id: string, data: Record<string, unknown> = {}) => ({
      id: `e-open-${id.slice(0, 20)}`,
      stream: `opportunity-${id}`,
      revision: 0,
      type: 'OpportunityOpened',
      data: { opportunityId: id, occurredAt: '2026-01-02T09:00:00.000Z', processId: 'standard', processVersion: version, stage: 'new', title: 'Deal', ...data },
      metadata: { actor: 'ana' },
    });
    const lines = [
      opened(GOOD, { teamId: 'direct', ownerId: 'ana' }),
      opened('SF-1042'),
      opened('1c0b7c0e-2f4e-4a57-8d0c-8e3c0f6b2a10', { teamId: '🚀' }),
      opened('2d1c8d1f-3a5f-4b68-9e1d-9f4d1a7c3b21', { ownerId: 'o'.repeat(50_000) }),
      { id: 'e-change', stream: `opportunity-${GOOD}`, revision: 1, type: 'OpportunityDetailsChanged', data: { opportunityId: GOOD, occurredAt: '2026-01-03T09:00:00.000Z', title: 'Renamed' }, metadata: { actor: 'ana' } },
    ];
    const { exit, report, streams } = await run('ids.jsonl', lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    expect(exit).toBe(EXIT.failed);
    expect(report.rejected.map(({ line, reason }) => [line, reason.replace(/ \(got .*$/, '')])).toEqual([
      [2, 'the opportunity id "SF-1042" (of stream "opportunity-<id>") must be a UUID, as the API\'s routes take it'],
      [3, 'data.teamId: must be an id of 1 to 100 letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit'],
      [4, 'data.ownerId: must be an id of 1 to 100 letters, digits, ".", "_", ":", "@" or "-", starting with a letter or digit'],
    ]);
    expect(report.imported).toBe(2);
    expect(streams).toEqual([`opportunity-${GOOD}`]);
  });

  it('a backfill: a cell past the API rule for its field is rejected naming the column', async () => {
    const rows = [
      'opportunityId,occurredAt,stage,outcome,lostReason,processId,title,currency,note',
      'SF-1,2026-01-02T09:00:00Z,new,,,standard,Deal,,',
      `SF-2,2026-01-02T09:00:00Z,new,,,standard,Deal,,${'n'.repeat(2001)}`,
      `SF-3,2026-01-02T09:00:00Z,new,,,standard,${'🚀'.repeat(200)},,`,
      // A backfill records new facts: a note that draws nothing is refused, as the API refuses it.
      'SF-4,2026-01-02T09:00:00Z,new,,,standard,Deal,,\u200b\u3164',
    ];
    const { report, streams } = await run('rows.csv', `${rows.join('\n')}\n`);
    expect(report.rejected.map(({ line, reason }) => [line, reason.replace(/ \(got .*$/, '')])).toEqual([
      [3, 'note: must be a string of 1 to 2000 characters with a visible character'],
      [5, 'note: must be a string of 1 to 2000 characters with a visible character'],
    ]);
    // A title of 200 emoji is 200 characters to the API: taken here too.
    expect(report.imported).toBe(2);
    expect(streams).toHaveLength(2);
  });

  // History is a sequence: a row that cannot even be read (a cell past its rule, a broken quote, a
  // line of JSON of the wrong shape) is a rejected step of its deal like a refused one, and the
  // deal's later rows would tell another story. Read apart from its deal, such a row let them in.
  it('a row or line that cannot be read rejects the later ones of its deal, and names the deal', async () => {
    const rows = [
      'opportunityId,occurredAt,stage,outcome,lostReason,processId,title,amount,note',
      'SF-1,2026-01-02T09:00:00Z,new,,,standard,Deal,100,',
      'SF-1,2026-01-03T09:00:00Z,new,,,,,"1.234,56",',
      'SF-1,2026-01-04T09:00:00Z,qualification,,,,,,',
      'SF-2,2026-01-02T09:00:00Z,new,,,standard,Deal,100,',
      'SF-2,2026-01-03T09:00:00Z,new,,,,Widget 5" screen,,',
      'SF-2,2026-01-04T09:00:00Z,qualification,,,,,,',
      'SF-3,2026-01-02T09:00:00Z,new,,,standard,Deal,100,',
      'SF-3,2026-01-04T09:00:00Z,qualification,,,,,,',
    ];
    const backfill = await run('unreadable.csv', `${rows.join('\n')}\n`);
    expect(backfill.report.rejected.map(({ line, opportunity, reason }) => [line, opportunity, reason.split(':')[0]])).toEqual([
      [3, 'SF-1', 'amount'],
      [4, 'SF-1', 'follows line 3, which was rejected, of the same opportunity'],
      [6, 'SF-2', 'title'],
      [7, 'SF-2', 'follows line 6, which was rejected, of the same opportunity'],
    ]);
    expect(backfill.report.imported).toBe(4);

    // One deal however its id is written: a source id and the UUID it maps to, a UUID in either case.
    const mapped = opportunityIdFor('SF-9');
    const upper = '0B3C8A52-6A1F-4C3E-9D55-3F1F6F0A7E11';
    const spelled = await run('spelled.csv', `${[
      rows[0],
      'SF-9,2026-01-02T09:00:00Z,new,,,standard,Deal,100,',
      'SF-9,2026-01-03T09:00:00Z,new,,,,,"1.234,56",',
      `${mapped},2026-01-04T09:00:00Z,qualification,,,,,,`,
      `${upper},2026-01-02T09:00:00Z,new,,,standard,Deal,100,`,
      `${upper},2026-01-03T09:00:00Z,new,,,,,"1.234,56",`,
      `${upper.toLowerCase()},2026-01-04T09:00:00Z,qualification,,,,,,`,
    ].join('\n')}\n`);
    expect(spelled.report.rejected.map(({ line, reason }) => [line, reason.split(':')[0]])).toEqual([
      [3, 'amount'],
      [4, 'follows line 3, which was rejected, of the same opportunity'],
      [6, 'amount'],
      [7, 'follows line 6, which was rejected, of the same opportunity'],
    ]);

    const id = '0b3c8a52-6a1f-4c3e-9d55-3f1f6f0a7e10';
    const event = (revision: number, type: string, data: Record<string, unknown>) => ({ id: `u${revision}`, stream: `opportunity-${id}`, revision, type, data: { opportunityId: id, ...data }, metadata: {} });
    const lines = [
      event(0, 'OpportunityOpened', { occurredAt: '2026-01-02T09:00:00Z', processId: 'standard', processVersion: version, stage: 'new', title: 'Deal' }),
      { ...event(1, 'OpportunityDetailsChanged', { occurredAt: '2026-01-03T09:00:00Z', title: 'Renamed' }), metadata: 'not an object' },
      event(1, 'OpportunityDetailsChanged', { occurredAt: '2026-01-03T09:00:00Z', title: 'Other' }),
    ];
    const log = await run('unreadable.jsonl', `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    expect(log.report.rejected.map(({ line, opportunity, reason }) => [line, opportunity, reason.split(':')[0]])).toEqual([
      [2, `opportunity-${id}`, 'metadata'],
      [3, `opportunity-${id}`, 'follows line 2, which was rejected, of the same opportunity'],
    ]);
    expect(log.report.imported).toBe(1);
  });

  // Every rejected line names its column or field, those the process's rules refuse too: "SKIP_NOT_ALLOWED" alone
  // left the reader to guess which cell of a 15-column row to fix.
  it("a line the process's rules refuse is rejected naming the data field at fault", async () => {
    const id = '0b3c8a52-6a1f-4c3e-9d55-3f1f6f0a7e20';
    const event = (revision: number, type: string, data: Record<string, unknown>) => ({ id: `r${revision}`, stream: `opportunity-${id}`, revision, type, data: { opportunityId: id, ...data }, metadata: {} });
    const lines = [
      event(0, 'OpportunityOpened', { occurredAt: '2026-01-02T09:00:00Z', processId: 'standard', processVersion: version, stage: 'new', title: 'Deal' }),
      event(1, 'StageChanged', { occurredAt: '2026-01-03T09:00:00Z', from: 'new', to: 'negotiation', direction: 'forward' }),
    ];
    const other = '0b3c8a52-6a1f-4c3e-9d55-3f1f6f0a7e21';
    lines.push(
      { ...event(0, 'OpportunityOpened', { occurredAt: '2026-01-02T09:00:00Z', processId: 'standard', processVersion: version, stage: 'new', title: 'Deal' }), id: 'o0', stream: `opportunity-${other}` },
      { ...event(1, 'OpportunityLost', { occurredAt: '2026-01-03T09:00:00Z', stage: 'new', reason: 'bored' }), id: 'o1', stream: `opportunity-${other}` },
    );
    for (const line of lines.slice(2)) (line.data as { opportunityId: string }).opportunityId = other;
    const { report } = await run('refused.jsonl', `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`);
    expect(report.rejected.map(({ line, reason }) => [line, reason.split(': ').slice(0, 2).join(': ')])).toEqual([
      [2, 'data.to: OPPORTUNITY.SKIP_NOT_ALLOWED'],
      [4, 'data.reason: OPPORTUNITY.INVALID_LOST_REASON'],
    ]);
  });
});
