import { fitsRule, foldOpportunity, type OpportunityState } from '@stagecraft/opportunity';
import { events, shippedProcess } from '../../../../libs/opportunity/src/testing/opportunity.fixtures';
import { BACKFILLED_CRITERION_NOTE, planBackfillRow } from './backfill.plan';
import { backfillHeader, BACKFILL_COLUMN_RULES, BACKFILL_COLUMNS, parseBackfillRow, type BackfillRow } from './backfill.row';

const standard = shippedProcess('standard');
const insideSales = shippedProcess('inside-sales');
const ID = 'opp-1';
const NOW = '2026-06-01T00:00:00.000Z';
const row = (fields: Partial<BackfillRow>): BackfillRow => ({ line: 2, opportunityId: 'SF-1', occurredAt: '2026-03-01T12:00:00.000Z', ...fields });
const types = (plan: ReturnType<typeof planBackfillRow>) => (plan.ok ? plan.steps.map((step) => step.body.type) : plan.reason);

describe('planning a backfill row as commands the API accepts', () => {
  const openInNew: OpportunityState = foldOpportunity([events.opened(standard, 0, { amount: 100 })]);

  it('opens a new opportunity, then moves it to the row stage when that is the next one', () => {
    const plan = planBackfillRow(row({ stage: 'qualification', processId: 'standard', title: 'ACME', amount: 10 }), ID, { status: 'none' }, standard, NOW);
    expect(types(plan)).toEqual(['OpenOpportunity', 'MoveOpportunityToStage']);
    expect(plan.ok && plan.steps[0]!.body).toMatchObject({ type: 'OpenOpportunity', opportunityId: ID, title: 'ACME', amount: 10, occurredAt: '2026-03-01T12:00:00.000Z' });
  });

  it('records the expected close date on opening and each later change of it, and nothing for the same date again', () => {
    const opened = planBackfillRow(row({ stage: 'new', processId: 'standard', title: 'ACME', expectedCloseDate: '2026-06-30' }), ID, { status: 'none' }, standard, NOW);
    expect(opened.ok && opened.steps[0]!.body).toMatchObject({ type: 'OpenOpportunity', expectedCloseDate: '2026-06-30' });
    const withDate = foldOpportunity([events.opened(standard, 0), { type: 'ExpectedCloseDateChanged', data: { opportunityId: ID, occurredAt: '2026-03-01T09:01:00.000Z', from: null, to: '2026-06-30' } }]);
    const pushed = planBackfillRow(row({ stage: 'new', expectedCloseDate: '2026-07-31' }), ID, withDate, standard, NOW);
    expect(pushed.ok && pushed.steps.map((step) => step.body)).toEqual([expect.objectContaining({ type: 'ChangeOpportunityDetails', expectedCloseDate: '2026-07-31' })]);
    expect(types(planBackfillRow(row({ stage: 'new', expectedCloseDate: '2026-06-30' }), ID, withDate, standard, NOW))).toEqual([]);
  });

  it('needs processId and title on the first row', () => {
    expect(types(planBackfillRow(row({ stage: 'new', title: 'ACME' }), ID, { status: 'none' }, standard, NOW))).toBe('processId: is required on the first row of an opportunity');
    expect(types(planBackfillRow(row({ stage: 'new', processId: 'standard' }), ID, { status: 'none' }, standard, NOW))).toBe('title: is required on the first row of an opportunity');
  });

  it('records the untracked exit criteria as met, with a note, before a forward move', () => {
    const inQualification = foldOpportunity([events.opened(standard, 0), events.moved('new', 'qualification', 'forward', 1), events.met('qualification', 'goals', 2)]);
    const plan = planBackfillRow(row({ stage: 'proposition' }), ID, inQualification, standard, NOW);
    expect(plan.ok).toBe(true);
    const steps = plan.ok ? plan.steps : [];
    expect(steps.map((step) => step.name)).toEqual([
      'criterion:qualification:need-confirmed',
      'criterion:qualification:budget-confirmed',
      'criterion:qualification:pain-points',
      'criterion:qualification:decision-maker',
      'move:proposition',
    ]);
    expect(steps[0]!.body).toMatchObject({ type: 'MeetExitCriterion', note: BACKFILLED_CRITERION_NOTE });
  });

  it('refuses a whole row the process forbids, before anything is recorded, naming the column at fault', () => {
    expect(types(planBackfillRow(row({ stage: 'proposition' }), ID, openInNew, standard, NOW))).toMatch(/^stage: OPPORTUNITY\.SKIP_NOT_ALLOWED/);
    expect(types(planBackfillRow(row({ outcome: 'won' }), ID, openInNew, standard, NOW))).toMatch(/^outcome: OPPORTUNITY\.NOT_WINNABLE_FROM_STAGE/);
    expect(types(planBackfillRow(row({ outcome: 'lost', lostReason: 'bored' }), ID, openInNew, standard, NOW))).toMatch(/^lostReason: OPPORTUNITY\.INVALID_LOST_REASON/);
    expect(types(planBackfillRow(row({ stage: 'qualification', occurredAt: '2020-01-01T00:00:00.000Z' }), ID, openInNew, standard, NOW))).toMatch(/^occurredAt: OPPORTUNITY\.OCCURRED_AT_BEFORE_LAST_EVENT/);
    expect(types(planBackfillRow(row({ stage: 'moon' }), ID, openInNew, standard, NOW))).toMatch(/^stage: OPPORTUNITY\.UNKNOWN_STAGE/);
  });

  it('skips stages where the process allows it, and wins with the criteria of the stage won from', () => {
    const opened = foldOpportunity([events.opened(insideSales, 0)]);
    const plan = planBackfillRow(row({ stage: 'closing', outcome: 'won', note: 'signed' }), ID, opened, insideSales, NOW);
    expect(types(plan)).toEqual(['MeetExitCriterion', 'MoveOpportunityToStage', 'MeetExitCriterion', 'WinOpportunity']);
    expect(plan.ok && plan.steps[3]!.body).toMatchObject({ note: 'signed' });
  });

  it('records the won reason and the next steps of a closing row with the win or the loss', () => {
    const opened = foldOpportunity([events.opened(insideSales, 0)]);
    const won = planBackfillRow(row({ stage: 'closing', outcome: 'won', nextSteps: 'Kick-off' }), ID, opened, insideSales, NOW);
    expect(won.ok && won.steps.at(-1)!.body).toMatchObject({ type: 'WinOpportunity', nextSteps: 'Kick-off' });
    // A process without wonReasons takes no won reason: the row is refused, naming the rule.
    const withReason = planBackfillRow(row({ stage: 'closing', outcome: 'won', wonReason: 'price' }), ID, opened, insideSales, NOW);
    expect(withReason).toMatchObject({ ok: false, reason: expect.stringContaining('wonReason: OPPORTUNITY.INVALID_WON_REASON') });
    const lost = planBackfillRow(row({ outcome: 'lost', lostReason: 'price', nextSteps: 'Call in Q3' }), ID, openInNew, standard, NOW);
    expect(lost.ok && lost.steps.at(-1)!.body).toMatchObject({ type: 'LoseOpportunity', reason: 'price', nextSteps: 'Call in Q3' });
  });

  // A row's note goes with what the row records that takes one (a move, a win, a loss, a reopen).
  // Nothing else keeps a note, so a note on a row that records none of them was dropped in silence
  // while the row counted as imported: it goes with a reopen into the row's stage, and is refused,
  // naming the column, where nothing would keep it (as nextSteps on a row without an outcome is).
  it('records a row note with the reopen that takes the deal into the row stage, and refuses one nothing would keep', () => {
    const lost = foldOpportunity([events.opened(standard, 0), events.lost('new', 'price', 1)]);
    const reopened = planBackfillRow(row({ stage: 'new', note: 'back on the table' }), ID, lost, standard, NOW);
    expect(reopened.ok && reopened.steps.map((step) => step.body)).toEqual([expect.objectContaining({ type: 'ReopenOpportunity', stage: 'new', note: 'back on the table' })]);
    const onward = planBackfillRow(row({ stage: 'qualification', note: 'back on the table' }), ID, lost, standard, NOW);
    expect(onward.ok && onward.steps.map((step) => step.body)).toEqual([expect.objectContaining({ type: 'ReopenOpportunity', stage: 'qualification', note: 'back on the table' })]);
    // Reopened to be won (a loss turned round): the win keeps the note, the reopen none.
    const lostInClosing = foldOpportunity([events.opened(insideSales, 0), events.moved('lead', 'closing', 'forward', 1), events.lost('closing', 'price', 2)]);
    const won = planBackfillRow(row({ outcome: 'won', note: 'signed after all' }), ID, lostInClosing, insideSales, NOW);
    expect(won.ok && won.steps.filter((step) => step.body.type !== 'MeetExitCriterion').map((step) => [step.body.type, (step.body as { note?: string }).note])).toEqual([
      ['ReopenOpportunity', undefined],
      ['WinOpportunity', 'signed after all'],
    ]);
    const nowhere = /^note: nothing this row records keeps a note/;
    expect(types(planBackfillRow(row({ stage: 'new', processId: 'standard', title: 'ACME', note: 'first call' }), ID, { status: 'none' }, standard, NOW))).toMatch(nowhere);
    expect(types(planBackfillRow(row({ stage: 'new', amount: 250, note: 'price revised' }), ID, openInNew, standard, NOW))).toMatch(nowhere);
    expect(types(planBackfillRow(row({ stage: 'new', note: 'still thinking' }), ID, openInNew, standard, NOW))).toMatch(nowhere);
    // Where a step keeps it, the row is planned as before.
    expect(types(planBackfillRow(row({ stage: 'qualification', processId: 'standard', title: 'ACME', note: 'first call' }), ID, { status: 'none' }, standard, NOW))).toEqual(['OpenOpportunity', 'MoveOpportunityToStage']);
  });

  it('changes differing details, reopens a closed deal, and finds nothing to do in a repeat', () => {
    expect(types(planBackfillRow(row({ stage: 'new', amount: 250 }), ID, openInNew, standard, NOW))).toEqual(['ChangeOpportunityDetails']);
    expect(types(planBackfillRow(row({ stage: 'new', amount: 100 }), ID, openInNew, standard, NOW))).toEqual([]);
    const lost = foldOpportunity([events.opened(standard, 0), events.lost('new', 'price', 1)]);
    expect(types(planBackfillRow(row({ stage: 'new' }), ID, lost, standard, NOW))).toEqual(['ReopenOpportunity']);
    expect(types(planBackfillRow(row({ outcome: 'lost', lostReason: 'price' }), ID, lost, standard, NOW))).toEqual([]);
    // A close that says otherwise is no repeat: refused, naming the column, rather than taken for one and left out.
    expect(types(planBackfillRow(row({ outcome: 'lost', lostReason: 'competitor' }), ID, lost, standard, NOW))).toBe(
      'lostReason: the deal is lost already (in "new", reason "price"); a row closing it again with "competitor" needs a row before it that reopens it (one giving a stage)',
    );
    expect(types(planBackfillRow(row({ outcome: 'lost', lostReason: 'price', nextSteps: 'Call in Q3' }), ID, lost, standard, NOW))).toMatch(/^nextSteps: the deal is lost already \(in "new", without next steps\)/);
    // Its note likewise, as the close recorded it (the state keeps none: the import reads it from the close).
    expect(types(planBackfillRow(row({ outcome: 'lost', lostReason: 'price', note: 'gone' }), ID, lost, standard, NOW, { note: 'gone' }))).toEqual([]);
    expect(types(planBackfillRow(row({ outcome: 'lost', lostReason: 'price' }), ID, lost, standard, NOW, { note: 'gone' }))).toEqual([]);
    expect(types(planBackfillRow(row({ outcome: 'lost', lostReason: 'price', note: 'back in Q3' }), ID, lost, standard, NOW, { note: 'gone' }))).toMatch(/^note: the deal is lost already \(in "new", note "gone"\); a row closing it again with "back in Q3"/);
    expect(types(planBackfillRow(row({ outcome: 'lost', lostReason: 'price', note: 'gone' }), ID, lost, standard, NOW))).toMatch(/^note: the deal is lost already \(in "new", without a note\)/);
    // So does one giving other details: a closed deal's details do not change, and a repeat records nothing.
    const lostWithAmount = foldOpportunity([events.opened(standard, 0, { amount: 100, currency: 'EUR' }), events.lost('new', 'price', 1)]);
    expect(types(planBackfillRow(row({ outcome: 'lost', lostReason: 'price', amount: 100, currency: 'EUR' }), ID, lostWithAmount, standard, NOW))).toEqual([]);
    expect(types(planBackfillRow(row({ outcome: 'lost', lostReason: 'price', amount: 250, currency: 'EUR' }), ID, lostWithAmount, standard, NOW))).toBe(
      'amount: the deal is lost already (in "new", amount 100), and a closed deal\'s details do not change; a row giving 250 needs a row before it that reopens it (one giving a stage)',
    );
    expect(types(planBackfillRow(row({ outcome: 'lost', ownerId: 'ana' }), ID, lostWithAmount, standard, NOW))).toMatch(/^ownerId: the deal is lost already \(in "new", without ownerId\)/);
  });
});

describe('reading backfill rows', () => {
  const { index } = backfillHeader([...BACKFILL_COLUMNS]) as { ok: true; index: Map<(typeof BACKFILL_COLUMNS)[number], number> };
  const cells = (fields: Record<string, string>) => BACKFILL_COLUMNS.map((column) => fields[column] ?? '');

  it('refuses unknown, repeated and missing header columns', () => {
    expect(backfillHeader(['opportunityId', 'occuredAt'])).toEqual({ ok: false, reason: expect.stringContaining('unknown column "occuredAt"') });
    expect(backfillHeader(['opportunityId', 'occurredAt', 'stage', 'stage'])).toEqual({ ok: false, reason: 'column "stage" appears twice' });
    expect(backfillHeader(['opportunityId', 'stage'])).toEqual({ ok: false, reason: 'missing column(s) occurredAt' });
  });

  it.each([
    [{ occurredAt: '2026-01-01T00:00:00Z', stage: 'new' }, 'opportunityId: is required'],
    [{ opportunityId: 'SF 1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new' }, 'opportunityId: must be an id'],
    [{ opportunityId: 'SF-1', occurredAt: '2026-01-01', stage: 'new' }, 'occurredAt: must be an ISO 8601 date-time with a time zone'],
    [{ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z' }, 'stage: is required unless the row gives an outcome'],
    [{ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', outcome: 'lost' }, 'lostReason: is required when outcome is "lost"'],
    [{ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', outcome: 'tied' }, 'outcome: must be empty, "won" or "lost"'],
    [{ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', amount: '12k' }, 'amount: must be a number from 0'],
    ...['0x10', '1e3', '+5', '-1', '.5', '5.'].map((amount) => [{ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', amount }, 'amount: must be a number from 0'] as [Record<string, string>, string]),
    [{ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', currency: 'eur' }, 'currency: must be an ISO 4217 code'],
    [{ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', outcome: 'lost', lostReason: 'price', wonReason: 'price' }, 'wonReason: is only for rows whose outcome is "won"'],
    [{ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', nextSteps: 'call' }, 'nextSteps: is only for rows that give an outcome'],
    [{ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', expectedCloseDate: '2026-02-30' }, 'expectedCloseDate: must be a calendar date written YYYY-MM-DD'],
    // Team and owner ids as the API takes them: up to 100 characters, no spaces.
    [{ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', teamId: 't'.repeat(101) }, 'teamId: must be an id of 1 to 100 letters'],
    [{ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', ownerId: 'ana maria' }, 'ownerId: must be an id of 1 to 100 letters'],
  ])('%j → %s', (fields, reason) => {
    const parsed = parseBackfillRow(3, cells(fields), index);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toContain(reason);
  });

  it('takes the team and owner ids the API takes (up to 100 characters), not a shorter limit of its own', () => {
    const team = 'emea.north-'.padEnd(100, 'x');
    const parsed = parseBackfillRow(3, cells({ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', teamId: team, ownerId: 'Ana.Maria@corp' }), index);
    expect(parsed).toMatchObject({ ok: true, row: { teamId: team, ownerId: 'Ana.Maria@corp' } });
  });

  // An amount cell is text: read as a JavaScript number, 999999999999999.9999 became 10^15 and was
  // recorded so without a word. A cell is taken only when the number stored is the one written.
  it.each(['999999999999999.9999', '999999999999999.999', '99999999999999.99999', '900719925474099.3'])('refuses the amount %s, which no stored number is exactly', (amount) => {
    const parsed = parseBackfillRow(3, cells({ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', amount }), index);
    expect(parsed).toEqual({ ok: false, reason: expect.stringMatching(new RegExp(`^amount: ${amount.replace('.', '\\.')} cannot be stored exactly \\(it would be recorded as [\\d.]+\\); give at most 15 significant digits`)) });
  });

  it.each([
    ['999999999999999', 999999999999999],
    ['99999999999.9999', 99999999999.9999],
    ['00012.5000', 12.5],
    ['0.0001', 0.0001],
    ['1000000000000000', 1e15],
  ])('takes the amount %s as the number written', (amount, value) => {
    expect(parseBackfillRow(3, cells({ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', amount }), index)).toMatchObject({ ok: true, row: { amount: value } });
  });

  it('keeps only the cells given', () => {
    expect(parseBackfillRow(3, cells({ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', amount: '12.5', note: ' hi ' }), index)).toEqual({
      ok: true,
      row: { line: 3, opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', amount: 12.5, note: 'hi' },
    });
  });
});

describe('backfill cells are held to the rule the API holds the command field they give to', () => {
  const { index } = backfillHeader([...BACKFILL_COLUMNS]) as { ok: true; index: Map<(typeof BACKFILL_COLUMNS)[number], number> };
  const cells = (fields: Record<string, string>) => BACKFILL_COLUMNS.map((column) => fields[column] ?? '');
  /** A row each column may be given in (a reason or next steps only with an outcome). */
  const CONTEXT: Readonly<Record<string, Record<string, string>>> = { lostReason: { outcome: 'lost', stage: '' }, wonReason: { outcome: 'won', stage: '' }, nextSteps: { outcome: 'won', stage: '' } };
  const SAMPLES = ['eur', 'EURO', 'ana b', '-ana', 'EMEA/north', '🚀', '2026-01-02T09:00:00', '2026-02-30', '1.23456', '9999999999999999', ...[41, 65, 101, 201, 2001, 5000].map((length) => 'x'.repeat(length))];

  it('every column but the id and the outcome names the rule of the command field it gives', () => {
    expect(Object.keys(BACKFILL_COLUMN_RULES).sort()).toEqual(BACKFILL_COLUMNS.filter((column) => column !== 'opportunityId' && column !== 'outcome').sort());
  });

  it.each(Object.entries(BACKFILL_COLUMN_RULES))('%s: a cell the rule refuses rejects the row, naming the column', (column, rule) => {
    const bad = SAMPLES.filter((sample) => !fitsRule(rule, column === 'amount' ? Number(sample) : sample));
    expect(bad.length).toBeGreaterThan(0);
    for (const sample of bad) {
      const parsed = parseBackfillRow(3, cells({ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', ...CONTEXT[column], [column]: sample }), index);
      expect({ sample, parsed }).toEqual({ sample, parsed: { ok: false, reason: expect.stringMatching(new RegExp(`^${column}: must be `)) } });
    }
  });

  it('takes what the API takes: a title of 200 emoji is 200 characters there', () => {
    const parsed = parseBackfillRow(3, cells({ opportunityId: 'SF-1', occurredAt: '2026-01-01T00:00:00Z', stage: 'new', title: '🚀'.repeat(200), note: 'n'.repeat(2000) }), index);
    expect(parsed.ok).toBe(true);
  });

  it('a planned step whose field breaks its rule is refused, naming the column (a row built in code)', () => {
    const openInNew = foldOpportunity([events.opened(standard, 0)]);
    expect(types(planBackfillRow(row({ stage: 'qualification', note: 'x'.repeat(2001) }), ID, openInNew, standard, NOW))).toMatch(/^note: must be a string of 1 to 2000 characters/);
    expect(types(planBackfillRow(row({ stage: 'new', processId: 'standard', title: '   ' }), ID, { status: 'none' }, standard, NOW))).toMatch(/^title: must be .* with a visible character/);
    expect(types(planBackfillRow(row({ outcome: 'lost', lostReason: 'x'.repeat(65) }), ID, openInNew, standard, NOW))).toMatch(/^lostReason: must be a string of 1 to 64 characters/);
    expect(types(planBackfillRow(row({ stage: 'new', currency: 'eur' }), ID, openInNew, standard, NOW))).toMatch(/^currency: must be an ISO 4217 code/);
  });
});
