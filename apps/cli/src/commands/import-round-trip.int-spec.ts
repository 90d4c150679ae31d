import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandEnvelope, OpportunityCommandBody } from '@stagecraft/commands';
import { loadProcessFile, readSettings, type Settings } from '@stagecraft/config';
import { compileProcess } from '@stagecraft/sales-process';
import { openEventStore, type StoredEvent } from '@stagecraft/event-store';
import { openCommandSide } from '../cli-context';
import { EXIT } from '../cli.errors';
import { exportEvents } from './export.command';
import { importFile, type ImportReport } from './import.command';

// A store that holds every kind of event an opportunity stream can: openings with an expected
// close date, criteria met and revoked, moves both ways, details changed, a keyed command that
// changed nothing (NoChangeRecorded) with events after it, wins with amounts, a loss, reopenings,
// and migrations to a newer process version (one keeping its criteria, one under a stage mapping).
// Its export, JSONL and CSV, imports into an empty store with nothing rejected and the same events.
describe('stagecraft import: an export of a store with every kind of event round-trips', () => {
  const SHIPPED = join(__dirname, '..', '..', '..', '..', 'config', 'processes', 'standard.yaml');
  let dir: string;
  let v1: string;
  let v2: string;
  let source: Settings;
  const ids = { won: '', lost: '', migrated: '', renamed: '', noChange: '' };
  const id = (n: number) => `7d3c2a10-4b1f-4c3e-9d55-3f1f6f0a7e${String(n).padStart(2, '0')}`;
  const at = (day: number, hour = 9) => `2026-02-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00.000Z`;
  const settingsFor = (name: string, processesDir: string) => readSettings({ EVENT_STORE_PATH: join(dir, `${name}.db`), PROCESSES_DIR: processesDir }, dir);

  const quietly = async <T>(work: (printed: string[]) => Promise<T>): Promise<T> => {
    const printed: string[] = [];
    const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      return await work(printed);
    } finally {
      log.mockRestore();
      error.mockRestore();
      stderr.mockRestore();
    }
  };
  const importInto = (settings: Settings, file: string) =>
    quietly(async (printed) => {
      const exit = await importFile(settings, file, { json: true });
      return { exit, report: JSON.parse(printed.at(-1)!) as ImportReport };
    });
  const opportunityEvents = async (settings: Settings): Promise<StoredEvent[]> => {
    const store = openEventStore(settings);
    try {
      return (await store.readAll()).filter((event) => event.stream.startsWith('opportunity-'));
    } finally {
      await store.close();
    }
  };
  // Stream by stream: how an import interleaves streams in the global log is its own business.
  const facts = (events: readonly StoredEvent[]) =>
    events.map(({ stream, revision, type, data }) => ({ stream, revision, type, data })).sort((a, b) => a.stream.localeCompare(b.stream) || a.revision - b.revision);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'import-round-trip-'));
    v1 = join(dir, 'processes-v1');
    v2 = join(dir, 'processes-v2');
    mkdirSync(v1);
    mkdirSync(v2);
    const yaml = readFileSync(SHIPPED, 'utf8');
    writeFileSync(join(v1, 'standard.yaml'), yaml);
    // v2 renames Proposition (same criteria) and weighs Qualification differently.
    writeFileSync(join(v2, 'standard.yaml'), yaml.replace('- id: proposition', '- id: proposal').replace(/probability: 20\b/, 'probability: 25'));

    let sequence = 0;
    const run = async (settings: Settings, commands: (send: (body: OpportunityCommandBody, keyed?: boolean) => Promise<void>) => Promise<void>) => {
      const side = await quietly(() => openCommandSide(settings));
      try {
        await commands(async (body, keyed = false) => {
          sequence += 1;
          const envelope: CommandEnvelope = { commandId: `cmd-${sequence}`, clientSuppliedId: keyed, correlationId: `corr-${sequence}`, actor: 'api-key:seller', authenticatedBy: 'api-key:1', now: new Date().toISOString() };
          await side.executor.execute(body, envelope);
        });
      } finally {
        await side.close();
      }
    };
    source = settingsFor('source', v1);
    ids.won = id(1);
    ids.lost = id(2);
    ids.migrated = id(3);
    ids.renamed = id(4);
    ids.noChange = id(5);
    const qualificationCriteria = ['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker'];
    await run(source, async (send) => {
      const meet = async (opportunityId: string, criteria: readonly string[], day: number) => {
        for (const criterionId of criteria) await send({ type: 'MeetExitCriterion', opportunityId, criterionId, occurredAt: at(day), note: `checked ${criterionId}` });
      };
      // Won, with an amount changed before the win, and reopened after it.
      await send({ type: 'OpenOpportunity', opportunityId: ids.won, processId: 'standard', title: 'ACME renewal', teamId: 'direct', ownerId: 'ana', amount: 1000, currency: 'EUR', expectedCloseDate: '2026-03-31', occurredAt: at(1) });
      await send({ type: 'MoveOpportunityToStage', opportunityId: ids.won, stage: 'qualification', occurredAt: at(2), note: 'first call' });
      await meet(ids.won, qualificationCriteria, 3);
      await send({ type: 'RevokeExitCriterion', opportunityId: ids.won, criterionId: 'goals', occurredAt: at(3, 10) });
      await send({ type: 'MeetExitCriterion', opportunityId: ids.won, criterionId: 'goals', occurredAt: at(3, 11) });
      await send({ type: 'MoveOpportunityToStage', opportunityId: ids.won, stage: 'proposition', occurredAt: at(4) });
      await meet(ids.won, ['proposal-given', 'decision-maker-interest', 'pricing-agreed'], 4);
      await send({ type: 'MoveOpportunityToStage', opportunityId: ids.won, stage: 'negotiation', occurredAt: at(5) });
      await meet(ids.won, ['negotiation-concluded', 'terms-agreed', 'contract-submitted'], 5);
      await send({ type: 'ChangeOpportunityDetails', opportunityId: ids.won, amount: 1200, ownerId: 'bob', expectedCloseDate: '2026-02-28', occurredAt: at(6) });
      await send({ type: 'WinOpportunity', opportunityId: ids.won, note: 'signed', nextSteps: 'kick-off', occurredAt: at(7) });
      await send({ type: 'ReopenOpportunity', opportunityId: ids.won, occurredAt: at(8), note: 'signature withdrawn' });
      await send({ type: 'MoveOpportunityToStage', opportunityId: ids.won, stage: 'qualification', occurredAt: at(9) });

      // Lost, reopened one stage on, moved back.
      await send({ type: 'OpenOpportunity', opportunityId: ids.lost, processId: 'standard', title: 'Globex', teamId: 'partners', ownerId: 'bob', amount: 500, currency: 'USD', occurredAt: at(1) });
      await send({ type: 'LoseOpportunity', opportunityId: ids.lost, reason: 'price', note: 'too dear', nextSteps: 'call in May', occurredAt: at(2) });
      await send({ type: 'ReopenOpportunity', opportunityId: ids.lost, stage: 'qualification', occurredAt: at(3) });
      await send({ type: 'MoveOpportunityToStage', opportunityId: ids.lost, stage: 'new', occurredAt: at(4) });
      await send({ type: 'ChangeOpportunityDetails', opportunityId: ids.lost, title: 'Globex EMEA', teamId: 'direct', expectedCloseDate: null, occurredAt: at(5) });

      // To be migrated: one in Qualification with criteria met, one in Proposition (renamed in v2).
      await send({ type: 'OpenOpportunity', opportunityId: ids.migrated, processId: 'standard', title: 'Initech', amount: 200, currency: 'EUR', occurredAt: at(1) });
      await send({ type: 'MoveOpportunityToStage', opportunityId: ids.migrated, stage: 'qualification', occurredAt: at(2) });
      await meet(ids.migrated, ['need-confirmed', 'budget-confirmed'], 3);
      await send({ type: 'OpenOpportunity', opportunityId: ids.renamed, processId: 'standard', title: 'Umbrella', amount: 300, currency: 'EUR', occurredAt: at(1) });
      await send({ type: 'MoveOpportunityToStage', opportunityId: ids.renamed, stage: 'qualification', occurredAt: at(2) });
      await meet(ids.renamed, qualificationCriteria, 2);
      await send({ type: 'MoveOpportunityToStage', opportunityId: ids.renamed, stage: 'proposition', occurredAt: at(3) });
      await meet(ids.renamed, ['proposal-given', 'pricing-agreed'], 3);

      // Keyed commands that changed nothing (NoChangeRecorded), with events after them.
      await send({ type: 'OpenOpportunity', opportunityId: ids.noChange, processId: 'standard', title: 'Hooli', amount: 50, currency: 'EUR', occurredAt: at(1) }, true);
      await send({ type: 'MoveOpportunityToStage', opportunityId: ids.noChange, stage: 'qualification', occurredAt: at(2) }, true);
      await send({ type: 'MeetExitCriterion', opportunityId: ids.noChange, criterionId: 'goals', occurredAt: at(3) }, true);
      await send({ type: 'MeetExitCriterion', opportunityId: ids.noChange, criterionId: 'goals', occurredAt: at(4) }, true);
      await send({ type: 'RevokeExitCriterion', opportunityId: ids.noChange, criterionId: 'pain-points', occurredAt: at(5) }, true);
      await send({ type: 'ChangeOpportunityDetails', opportunityId: ids.noChange, amount: 50, occurredAt: at(6) }, true);
      await send({ type: 'ChangeOpportunityDetails', opportunityId: ids.noChange, amount: 60, occurredAt: at(7) }, true);
      await send({ type: 'LoseOpportunity', opportunityId: ids.noChange, reason: 'timing', occurredAt: at(8) }, true);
    });
    const onV2 = { ...source, processesDir: v2 };
    await run(onV2, async (send) => {
      const side = await quietly(() => openCommandSide(onV2));
      const toVersion = side.processes.current('standard').version;
      await side.close();
      await send({ type: 'MigrateOpportunity', opportunityId: ids.migrated, toVersion, occurredAt: at(10), note: 'new weights' });
      await send({ type: 'MeetExitCriterion', opportunityId: ids.migrated, criterionId: 'goals', occurredAt: at(11) });
      await send({ type: 'MigrateOpportunity', opportunityId: ids.renamed, toVersion, stageMapping: { proposition: 'proposal' }, occurredAt: at(10) });
      await send({ type: 'MeetExitCriterion', opportunityId: ids.renamed, criterionId: 'decision-maker-interest', occurredAt: at(11) });
      await send({ type: 'MoveOpportunityToStage', opportunityId: ids.renamed, stage: 'negotiation', occurredAt: at(12) });
    });
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['jsonl', 'csv'] as const)('its %s export imports into an empty store (a run per process version) with nothing rejected and the same events', async (format) => {
    const exported = await opportunityEvents(source);
    // Not vacuous: every kind of event is in the store exported.
    expect(new Set(exported.map((event) => event.type))).toEqual(
      new Set(['OpportunityOpened', 'ExpectedCloseDateChanged', 'StageChanged', 'ExitCriterionMet', 'ExitCriterionRevoked', 'OpportunityDetailsChanged', 'OpportunityWon', 'OpportunityLost', 'OpportunityReopened', 'ProcessMigrated', 'NoChangeRecorded']),
    );
    expect(exported.filter((event) => event.type === 'ProcessMigrated').map((event) => event.data.criteriaKept)).toEqual([['need-confirmed', 'budget-confirmed'], ['proposal-given', 'pricing-agreed']]);
    const file = join(dir, `export.${format}`);
    expect(await quietly(() => exportEvents(source, { format, out: file }))).toBe(EXIT.ok);

    const target = settingsFor(`copy-${format}`, v1);
    const first = await importInto(target, file);
    // On v1 alone, the migrations (and what follows them) wait for the run with v2.
    expect(first.report.rejected.map((entry) => entry.opportunity)).toEqual(expect.arrayContaining([`opportunity-${ids.migrated}`, `opportunity-${ids.renamed}`]));
    expect(new Set(first.report.rejected.map((entry) => entry.opportunity))).toEqual(new Set([`opportunity-${ids.migrated}`, `opportunity-${ids.renamed}`]));
    const second = await importInto({ ...target, processesDir: v2 }, file);
    expect(second.report.rejected).toEqual([]);
    expect(second.exit).toBe(EXIT.ok);
    expect(facts(await opportunityEvents(target))).toEqual(facts(exported));

    // A third run appends nothing and rejects nothing.
    const third = await importInto({ ...target, processesDir: v2 }, file);
    expect(third.report).toMatchObject({ imported: 0, eventsAppended: 0, rejected: [] });
  }, 60_000);

  // Lines as earlier versions wrote them: no hash chain and no actor in the metadata, a UUID in
  // capitals, business times without milliseconds, no won reason or next steps. The same facts:
  // the store writes the id and the instants in their one form.
  it('imports lines as earlier versions wrote them', async () => {
    const version = compileProcess(loadProcessFile(join(v1, 'standard.yaml')).definition).version;
    const upper = id(9).toUpperCase();
    const stream = `opportunity-${upper}`;
    const line = (revision: number, type: string, occurredAt: string, data: Record<string, unknown>, metadata: Record<string, unknown> = {}) => ({ id: `old-${revision}`, stream, revision, type, data: { opportunityId: upper, occurredAt, ...data }, metadata });
    const lines = [
      line(0, 'OpportunityOpened', '2026-02-01T09:00Z', { processId: 'standard', processVersion: version, stage: 'new', title: 'Old deal', amount: 100, currency: 'EUR' }, { actor: 'api-key:old' }),
      line(1, 'StageChanged', '2026-02-02T09:00:00Z', { from: 'new', to: 'qualification', direction: 'forward' }),
      line(2, 'ExitCriterionMet', '2026-02-02T10:00:00+01:00', { stage: 'qualification', criterionId: 'goals' }),
      line(3, 'OpportunityLost', '2026-02-03T09:00:00.000Z', { stage: 'qualification', reason: 'price' }),
      line(4, 'OpportunityReopened', '2026-02-04T09:00:00Z', { stage: 'qualification' }),
    ];
    const file = join(dir, 'old.jsonl');
    writeFileSync(file, `${lines.map((entry) => JSON.stringify(entry)).join('\n')}\n`);
    const target = settingsFor('old', v1);
    const { exit, report } = await importInto(target, file);
    expect(report).toMatchObject({ imported: 5, rejected: [] });
    expect(exit).toBe(EXIT.ok);
    const canonical = (text: string) => new Date(text).toISOString();
    expect(facts(await opportunityEvents(target))).toEqual(
      lines.map(({ revision, type, data }) => ({ stream: stream.toLowerCase(), revision, type, data: { ...data, opportunityId: upper.toLowerCase(), occurredAt: canonical(data.occurredAt) } })),
    );
  }, 60_000);

  // What an event holds that its command does not carry (an opening's stage, a move's from and
  // direction, a win's amount, a migration's fromStage and criteriaKept…) is decided again by the
  // import: a line that says otherwise (edited, corrupted, or written by other rules) is refused,
  // naming the field with both values, and nothing of it is appended — never recorded as the
  // store decides it, in silence.
  describe('a line its command would record otherwise is rejected, and nothing of it appended', () => {
    type Line = { stream: string; revision: number; type: string; data: Record<string, unknown> };
    const exportedLines = async (): Promise<Line[]> => {
      const file = join(dir, 'export.jsonl');
      if (!existsSync(file)) expect(await quietly(() => exportEvents(source, { format: 'jsonl', out: file }))).toBe(EXIT.ok);
      return readFileSync(file, 'utf8').trimEnd().split('\n').map((text) => JSON.parse(text) as Line);
    };
    const set = (field: string, value: unknown) => (line: Line) => void (line.data[field] = value);
    const edits: readonly [string, (line: Line) => boolean, (line: Line) => void, string][] = [
      ['an opening in another stage', (l) => l.type === 'OpportunityOpened' && l.stream.endsWith(ids.won), set('stage', 'qualification'), 'data.stage: the line says "qualification", but its command records "new" here'],
      ['a move from another stage', (l) => l.type === 'StageChanged' && l.data.to === 'qualification' && l.stream.endsWith(ids.won), set('from', 'proposition'), 'data.from: the line says "proposition", but its command records "new" here'],
      ['a forward move said to go back', (l) => l.type === 'StageChanged' && l.data.to === 'proposition' && l.stream.endsWith(ids.won), set('direction', 'backward'), 'data.direction: the line says "backward", but its command records "forward" here'],
      ['a criterion met in another stage', (l) => l.type === 'ExitCriterionMet' && l.stream.endsWith(ids.won) && l.data.criterionId === 'goals', set('stage', 'negotiation'), 'data.stage: the line says "negotiation", but its command records "qualification" here'],
      ['a win of another amount', (l) => l.type === 'OpportunityWon', set('amount', 1), 'data.amount: the line says 1, but its command records 1200 here'],
      ['a win without its amount', (l) => l.type === 'OpportunityWon', (l) => void delete l.data.amount, 'data.amount: the line says nothing, but its command records 1200 here'],
      ['a loss in another stage', (l) => l.type === 'OpportunityLost' && l.stream.endsWith(ids.lost), set('stage', 'negotiation'), 'data.stage: the line says "negotiation", but its command records "new" here'],
      ['an expected close date moved from another date', (l) => l.type === 'ExpectedCloseDateChanged' && l.data.to === '2026-02-28', set('from', '2026-01-31'), 'data.from: the line says "2026-01-31", but its command records "2026-03-31" here'],
      ['details that change what they hold already', (l) => l.type === 'OpportunityDetailsChanged' && l.stream.endsWith(ids.won), set('amount', 1000), 'data.amount: the line says 1000, but its command records nothing here'],
      ['a field no command records', (l) => l.type === 'ExitCriterionRevoked' && l.stream.endsWith(ids.won), set('evidence', 'signed memo'), 'data.evidence: the line says "signed memo", but its command records nothing here'],
      ['a migration from another stage', (l) => l.type === 'ProcessMigrated' && l.stream.endsWith(ids.migrated), set('fromStage', 'new'), 'data.fromStage: the line says "new", but its command records "qualification" here'],
      [
        'a migration keeping other criteria',
        (l) => l.type === 'ProcessMigrated' && l.stream.endsWith(ids.renamed),
        set('criteriaKept', ['proposal-given', 'pricing-agreed', 'decision-maker-interest']),
        'data.criteriaKept: the line says ["proposal-given","pricing-agreed","decision-maker-interest"], but its command records ["proposal-given","pricing-agreed"] here',
      ],
      [
        'a criterion met again said to be met',
        (l) => l.type === 'NoChangeRecorded' && l.data.command === 'MeetExitCriterion',
        (l) => Object.assign(l, { type: 'ExitCriterionMet', data: { opportunityId: l.data.opportunityId, occurredAt: l.data.occurredAt, stage: 'qualification', criterionId: 'goals' } }),
        'type: the line says "ExitCriterionMet", but its command records "NoChangeRecorded" here',
      ],
    ];

    it.each(edits.map((edit, n) => [edit[0], n] as const))('%s', async (_label, n) => {
      const [, matches, edit, reason] = edits[n]!;
      const lines = await exportedLines();
      const index = lines.findIndex(matches);
      expect(index).toBeGreaterThanOrEqual(0);
      const line = lines[index]!;
      edit(line);
      const edited = join(dir, `edited-${n}.jsonl`);
      writeFileSync(edited, `${lines.map((entry) => JSON.stringify(entry)).join('\n')}\n`);

      const target = settingsFor(`edited-${n}`, v1);
      const first = await importInto(target, edited);
      const second = await importInto({ ...target, processesDir: v2 }, edited);
      expect(second.exit).toBe(EXIT.failed);
      // The line itself, then the lines after it of that deal (history is a sequence). A migration
      // is decided in the run with v2; any other line in the first, on the version it was made on.
      const { report } = line.type === 'ProcessMigrated' ? second : first;
      const after = lines.flatMap((entry, at) => (entry.stream === line.stream && at > index ? [at + 1] : []));
      expect(report.rejected.filter((entry) => entry.opportunity === line.stream)).toEqual([
        { line: index + 1, opportunity: line.stream, reason },
        ...after.map((at) => ({ line: at, opportunity: line.stream, reason: `follows line ${index + 1}, which was rejected, of the same opportunity` })),
      ]);
      // The other deals: nothing rejected once both versions ran.
      expect(second.report.rejected.filter((entry) => entry.opportunity !== line.stream)).toEqual([]);
      // Nothing of the line: its deal ends just before it; every other deal is imported whole.
      const imported = await opportunityEvents(target);
      const expected = (await opportunityEvents(source)).filter((event) => event.stream !== line.stream || event.revision < line.revision);
      expect(facts(imported)).toEqual(facts(expected));
    }, 60_000);

    it('into the store that holds the line already: an edited line is rejected, not called unchanged', async () => {
      const lines = await exportedLines();
      const clean = join(dir, 'clean.jsonl');
      writeFileSync(clean, `${lines.map((entry) => JSON.stringify(entry)).join('\n')}\n`);
      const target = settingsFor('holds-it', v1);
      await importInto(target, clean);
      expect((await importInto({ ...target, processesDir: v2 }, clean)).report.rejected).toEqual([]);
      const before = await opportunityEvents(target);

      const index = lines.findIndex((line) => line.type === 'OpportunityWon');
      lines[index]!.data.amount = 1;
      const edited = join(dir, 'edited-again.jsonl');
      writeFileSync(edited, `${lines.map((entry) => JSON.stringify(entry)).join('\n')}\n`);
      const { report } = await importInto({ ...target, processesDir: v2 }, edited);
      expect(report.rejected[0]).toEqual({ line: index + 1, opportunity: lines[index]!.stream, reason: 'data.amount: the line says 1, but this store holds 1200 here' });
      expect(report).toMatchObject({ imported: 0, eventsAppended: 0 });
      expect(await opportunityEvents(target)).toEqual(before);
    }, 60_000);

    it('a line that repeats an earlier event id is rejected, not called unchanged while its event is missing', async () => {
      const lines = (await exportedLines()).filter((line) => line.stream.endsWith(ids.won)) as (Line & { id: string })[];
      lines[1]!.id = lines[0]!.id;
      const file = join(dir, 'duplicate-id.jsonl');
      writeFileSync(file, `${lines.map((entry) => JSON.stringify(entry)).join('\n')}\n`);
      const { report } = await importInto(settingsFor('duplicate-id', v1), file);
      expect(report.unchanged).toBe(0);
      expect(report.rejected[0]).toEqual({ line: 2, opportunity: lines[0]!.stream, reason: `id: event ${lines[0]!.id} is recorded at revision 0 of ${lines[0]!.stream} already, not at 1: two lines give one event id` });
      expect(report.rejected).toHaveLength(lines.length - 1);
    }, 60_000);

    it('a long value is shortened in the reason', async () => {
      const opened = (await exportedLines()).find((line) => line.type === 'OpportunityOpened' && line.stream.endsWith(ids.won))!;
      opened.data.stage = 'x'.repeat(5_000);
      const file = join(dir, 'long.jsonl');
      writeFileSync(file, `${JSON.stringify(opened)}\n`);
      const { report } = await importInto(settingsFor('long', v1), file);
      expect(report.rejected).toEqual([{ line: 1, opportunity: opened.stream, reason: expect.stringMatching(/^data\.stage: the line says "x{79}…" \(\d+ characters\), but its command records "new" here$/) }]);
      expect(await opportunityEvents(settingsFor('long', v1))).toEqual([]);
    });
  });
});
