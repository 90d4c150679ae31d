import type { OpportunityView, PipelineResult, ProcessDetail } from '@stagecraft/contracts';
import { boardColumns, cardAsRead, listedBeyondBoard, moveCommand, overdue, searchHitText, shownAt, withDealsShown, type BoardCard } from './board.model';
import { formatDate } from './format';
import { allowedTargets, moveChoices } from './moves.model';

const definition: ProcessDetail['definition'] = {
  id: 'standard',
  name: 'Standard',
  stages: [
    { id: 'new', name: 'New', probability: 10, exitCriteria: [] },
    { id: 'qualification', name: 'Qualification', probability: 20, exitCriteria: [{ id: 'budget', description: 'There is a budget' }] },
  ],
  rules: { allowSkipping: false, allowBackward: true, winFrom: ['qualification'] },
  lostReasons: ['price'],
  teams: [],
};
const now = new Date('2026-03-10T12:00:00Z');

describe('the board model', () => {
  it('has one column per stage in process order, then Won and Lost, with the figures and cards the API gave', () => {
    const pipeline: PipelineResult = {
      closed: { from: '2026-02-08T12:00:00.000Z', to: '2026-03-10T12:00:00.000Z', limit: 1 },
      processes: [
        {
          processId: 'standard',
          stages: [
            {
              stageId: 'new',
              name: 'New',
              probability: 10,
              count: 1,
              amount: 1000,
              amountsByCurrency: { EUR: 1000 },
              weightedAmount: 100,
              weightedAmountsByCurrency: { EUR: 100 },
              rotAfterDays: 1,
              opportunities: [{ id: 'a', title: 'A', ownerId: 'ana', teamId: 'direct', amount: 1000, currency: 'EUR', stageEnteredAt: '2026-03-07T13:00:00Z', expectedCloseDate: '2026-04-30', daysInStage: 2, rotting: true, criteria: { met: 1, total: 3 }, processVersion: 'v1' }],
            },
            { stageId: 'qualification', name: 'Qualification', probability: 20, count: 0, amount: 0, amountsByCurrency: {}, weightedAmount: 0, weightedAmountsByCurrency: {}, rotAfterDays: null },
            // Only an older version of the process has this stage: its deals still show. Two currencies: no single sum.
            {
              stageId: 'legacy',
              name: 'Legacy',
              probability: 30,
              count: 2,
              amount: null,
              amountsByCurrency: { EUR: 100, USD: 200 },
              weightedAmount: null,
              weightedAmountsByCurrency: { EUR: 30, USD: 60 },
              rotAfterDays: null,
              converted: { amount: { currency: 'EUR', amount: 280, rateDate: '2026-03-10', rates: [{ currency: 'USD', rate: 0.9, from: '2026-01-01' }], missingRates: [] } },
            },
          ],
          won: { count: 3, amount: 5000, amountsByCurrency: { EUR: 5000 }, opportunities: [{ id: 'w', title: 'W', ownerId: null, teamId: null, amount: 2000, currency: 'EUR', closedAt: '2026-03-09T08:00:00Z', closedInStage: 'qualification', nextSteps: 'Kick-off' }] },
          lost: { count: 1, amount: 700, amountsByCurrency: { USD: 700 }, opportunities: [{ id: 'l', title: 'L', ownerId: 'bob', teamId: null, amount: 700, currency: 'USD', closedAt: '2026-03-01T08:00:00Z', closedInStage: 'new', lostReason: 'price', nextSteps: null }] },
        },
      ],
    };
    const columns = boardColumns(definition, pipeline, now);

    expect(columns.map((column) => [column.key, column.count, column.amount, column.weightedAmount])).toEqual([
      ['new', 1, '€1,000', '€100'],
      ['qualification', 0, '0', '0'],
      ['legacy', 2, '€100 · $200', '€30 · $60'],
      ['won', 3, '€5,000', null],
      ['lost', 1, '$700', null],
    ]);
    expect(columns[0]!.cards).toEqual([
      { id: 'a', title: 'A', owner: 'ana', ownerId: 'ana', amount: '€1,000', amountValue: 1000, currency: 'EUR', teamId: 'direct', daysInStage: 2, rotting: true, expectedCloseDate: '2026-04-30', overdue: false, nextSteps: null, stageId: 'new', status: 'open', closedAt: null, lostReason: null, criteria: { met: 1, total: 3 }, closedInStage: null, processVersion: 'v1' },
    ]);
    expect(columns.map((column) => column.rotting)).toEqual([1, 0, 0, 0, 0]);
    // The converted total is labelled with the day and the rates it used.
    expect(columns[2]!.converted).toEqual({ text: '≈ €280', rates: '1 USD = 0.9 EUR (from 2026-01-01); rates in force on 2026-03-10' });
    expect(columns[0]!.converted).toBeNull();
    expect(columns[3]!.cards).toEqual([
      { id: 'w', title: 'W', owner: 'unassigned', ownerId: null, amount: '€2,000', amountValue: 2000, currency: 'EUR', teamId: null, daysInStage: null, rotting: false, expectedCloseDate: null, overdue: false, nextSteps: 'Kick-off', stageId: 'won', status: 'won', closedAt: '2026-03-09T08:00:00Z', lostReason: null, criteria: null, closedInStage: 'qualification', processVersion: null },
    ]);
    expect(columns[4]!.cards).toEqual([
      { id: 'l', title: 'L', owner: 'bob', ownerId: 'bob', amount: '$700', amountValue: 700, currency: 'USD', teamId: null, daysInStage: null, rotting: false, expectedCloseDate: null, overdue: false, nextSteps: null, stageId: 'lost', status: 'lost', closedAt: '2026-03-01T08:00:00Z', lostReason: 'price', criteria: null, closedInStage: 'new', processVersion: null },
    ]);
    // The period, and that Won lists fewer cards than it counts: more of it may be asked for.
    expect(columns.map((column) => column.caption)).toEqual([null, null, null, 'Closed 8 Feb 2026 – 10 Mar 2026 · newest 1 of 3', 'Closed 8 Feb 2026 – 10 Mar 2026']);
    expect(columns.map((column) => column.capped)).toEqual([false, false, false, true, false]);
  });

  it('names the Won and Lost period in the rep\'s own days, as the cards\' dates are: near midnight the UTC day is another', () => {
    // 23:30 UTC on 10 March: already 11 March in Auckland, still 10 March in New York.
    const pipeline: PipelineResult = {
      closed: { from: '2026-02-08T23:30:00.000Z', to: '2026-03-10T23:30:00.000Z', limit: 10 },
      processes: [{ processId: 'standard', stages: [], won: { count: 1, amountsByCurrency: {}, opportunities: [{ id: 'w', title: 'W', ownerId: null, teamId: null, amount: null, currency: null, closedAt: '2026-03-10T23:10:00.000Z' }] } }],
    } as unknown as PipelineResult;
    for (const [timeZone, period, closedOn] of [
      ['Pacific/Auckland', 'Closed 9 Feb 2026 – 11 Mar 2026', '11 Mar 2026'],
      ['America/New_York', 'Closed 8 Feb 2026 – 10 Mar 2026', '10 Mar 2026'],
    ] as const) {
      const won = boardColumns(definition, pipeline, now, timeZone).find((column) => column.key === 'won')!;
      expect([timeZone, won.caption]).toEqual([timeZone, period]);
      // The card says the day it closed the same way (board.view.ts: formatDate): the period's last day.
      expect(formatDate(won.cards[0]!.closedAt!, timeZone)).toBe(closedOn);
    }
  });

  it('marks an open card overdue once its expected close date is a day past in the rep\'s own zone, not on the day itself', () => {
    // 23:30 UTC on 10 March: already 11 March in Auckland, still 10 March in New York.
    const lateEvening = new Date('2026-03-10T23:30:00Z');
    const open = (id: string, expectedCloseDate: string | null) => ({ id, title: id, ownerId: null, teamId: null, amount: null, currency: null, stageEnteredAt: '2026-03-01T00:00:00Z', expectedCloseDate });
    const pipeline: PipelineResult = {
      processes: [
        {
          processId: 'standard',
          stages: [{ stageId: 'new', name: 'New', probability: 10, count: 4, amount: null, amountsByCurrency: {}, weightedAmount: null, weightedAmountsByCurrency: {}, rotAfterDays: null, opportunities: [open('9-mar', '2026-03-09'), open('10-mar', '2026-03-10'), open('11-mar', '2026-03-11'), open('none', null)] }],
          lost: { count: 1, amountsByCurrency: {}, opportunities: [{ id: 'closed', title: 'closed', ownerId: null, teamId: null, amount: null, currency: null, closedAt: '2026-03-01T08:00:00Z', lostReason: 'price' }] },
        },
      ],
    } as unknown as PipelineResult;
    for (const [timeZone, late] of [
      ['America/New_York', ['9-mar']],
      ['Pacific/Auckland', ['9-mar', '10-mar']],
    ] as const) {
      const cards = boardColumns(definition, pipeline, lateEvening, timeZone).flatMap((column) => column.cards);
      expect([timeZone, cards.filter((card) => card.overdue).map((card) => card.id)]).toEqual([timeZone, late]);
    }
    expect([overdue('2026-03-09', '2026-03-10'), overdue('2026-03-10', '2026-03-10'), overdue(null, '2026-03-10'), overdue('2025-12-31', '2026-01-01')]).toEqual([true, false, false, true]);
  });

  it('says how many cards a capped stage column leaves out, while its header keeps the whole column\'s figures', () => {
    const card = (id: string) => ({ id, title: id.toUpperCase(), ownerId: null, teamId: null, amount: 10, currency: 'EUR', stageEnteredAt: '2026-03-01T00:00:00Z', expectedCloseDate: null });
    const pipeline: PipelineResult = {
      processes: [
        {
          processId: 'standard',
          stages: [
            { stageId: 'new', name: 'New', probability: 10, count: 2347, amount: 23470, amountsByCurrency: { EUR: 23470 }, weightedAmount: 2347, weightedAmountsByCurrency: { EUR: 2347 }, rotAfterDays: null, opportunities: [card('a'), card('b')], opportunitiesOmitted: 2345 },
            { stageId: 'qualification', name: 'Qualification', probability: 20, count: 1, amount: 10, amountsByCurrency: { EUR: 10 }, weightedAmount: 2, weightedAmountsByCurrency: { EUR: 2 }, rotAfterDays: null, opportunities: [card('c')], opportunitiesOmitted: 0 },
          ],
        },
      ],
    };
    const columns = boardColumns(definition, pipeline, now);
    expect(columns.map((column) => [column.key, column.count, column.amount, column.cards.map((c) => c.id), column.more])).toEqual([
      ['new', 2347, '€23,470', ['a', 'b'], '2,345 more not shown'],
      ['qualification', 1, '€10', ['c'], null],
      ['won', 0, '0', [], null],
      ['lost', 0, '0', [], null],
    ]);
    expect(columns.map((column) => column.capped)).toEqual([true, false, false, false]);
    // An answer without the cap (no opportunitiesOmitted) shows no such line.
    expect(boardColumns(definition, { processes: [{ processId: 'standard', stages: [{ ...pipeline.processes[0]!.stages[1]!, opportunitiesOmitted: undefined }] }] }, now)[1]!.more).toBeNull();
  });

  it('shows empty stage columns for a process without opportunities (absent from the pipeline)', () => {
    const columns = boardColumns(definition, { processes: [] }, now);
    expect(columns.map((column) => [column.key, column.count, column.cards.length])).toEqual([
      ['new', 0, 0],
      ['qualification', 0, 0],
      ['won', 0, 0],
      ['lost', 0, 0],
    ]);
  });

  it('without a move table, offers an open card every other column (the API judges), a closed one only the stages to reopen in, and sends the matching command', () => {
    const columns = boardColumns(definition, { processes: [] }, now);
    const moveTargets = (all: typeof columns, card: { stageId: string; status: 'open' | 'won' | 'lost' }) => allowedTargets(moveChoices(all, card, null));
    const targets = moveTargets(columns, { stageId: 'new', status: 'open' });
    expect(targets.map((target) => target.name)).toEqual(['Qualification', 'Won', 'Lost']);
    const reopenTargets = moveTargets(columns, { stageId: 'lost', status: 'lost' });
    expect(reopenTargets.map((target) => target.name)).toEqual(['New', 'Qualification']);
    expect(reopenTargets.map((target) => moveCommand({ id: 'id-2', status: 'lost' }, target))).toEqual([
      { path: '/opportunities/id-2/reopen', body: { stage: 'new' } },
      { path: '/opportunities/id-2/reopen', body: { stage: 'qualification' } },
    ]);
    expect(targets.map((target) => moveCommand({ id: 'id-1', status: 'open' }, target, target.kind === 'lost' ? { reason: 'price' } : undefined))).toEqual([
      { path: '/opportunities/id-1/move', body: { stage: 'qualification' } },
      { path: '/opportunities/id-1/win', body: {} },
      { path: '/opportunities/id-1/lose', body: { reason: 'price' } },
    ]);
    expect(moveCommand({ id: 'id-1', status: 'open' }, targets[2]!, { reason: 'price', note: 'Went with a cheaper offer', nextSteps: undefined })).toEqual({ path: '/opportunities/id-1/lose', body: { reason: 'price', note: 'Went with a cheaper offer' } });
    // A win takes its reason and next steps when given, and sends nothing it was not given.
    expect(moveCommand({ id: 'id-1', status: 'open' }, targets[1]!, { reason: 'relationship', note: undefined, nextSteps: 'Kick-off on Monday' })).toEqual({ path: '/opportunities/id-1/win', body: { reason: 'relationship', nextSteps: 'Kick-off on Monday' } });
    expect(moveCommand({ id: 'id-1', status: 'open' }, targets[1]!)).toEqual({ path: '/opportunities/id-1/win', body: {} });
  });

  it('takes a card to where the deal is as read: another stage, closed (from the stage it closed in) or reopened, on its version', () => {
    const drawn: BoardCard = {
      id: 'o1', title: 'Deal', owner: 'ana', ownerId: 'ana', amount: '€1', amountValue: 1, currency: 'EUR', teamId: null, stageId: 'new', status: 'open', daysInStage: 3, rotting: false,
      expectedCloseDate: null, overdue: false, nextSteps: null, closedAt: null, lostReason: null, criteria: null, closedInStage: null, processVersion: 'v1',
    };
    const moved = cardAsRead(drawn, { status: 'open', stage: 'qualification', processVersion: 'v2' });
    expect([moved.stageId, moved.status, moved.closedInStage, moved.processVersion, moved.title]).toEqual(['qualification', 'open', null, 'v2', 'Deal']);
    expect(moveCommand(moved, { kind: 'stage', stageId: 'new', name: 'New' }).path).toBe('/opportunities/o1/move');
    const lost = cardAsRead(drawn, { status: 'lost', stage: 'qualification', processVersion: 'v1' });
    expect([lost.stageId, lost.status, lost.closedInStage]).toEqual(['lost', 'lost', 'qualification']);
    // Lost meanwhile: a stage is a reopening, never a move of an open deal.
    expect(moveCommand(lost, { kind: 'stage', stageId: 'new', name: 'New' }).path).toBe('/opportunities/o1/reopen');
  });

  it('knows a move landed by where the columns hold the card: open in the stage (moved or reopened), or in Won or Lost', () => {
    const card = { ownerId: 'ana', teamId: null, amount: 1, currency: 'EUR' };
    const columns = boardColumns(
      definition,
      {
        processes: [
          {
            processId: 'standard',
            stages: [{ stageId: 'qualification', name: 'Qualification', probability: 20, count: 1, amount: 1, amountsByCurrency: { EUR: 1 }, weightedAmount: 0, weightedAmountsByCurrency: { EUR: 0 }, rotAfterDays: null, opportunities: [{ id: 'open', title: 'Open', ...card, stageEnteredAt: '2026-03-07T13:00:00Z', expectedCloseDate: null }] }],
            won: { count: 1, amount: 1, amountsByCurrency: { EUR: 1 }, opportunities: [{ id: 'won', title: 'Won', ...card, closedAt: '2026-03-09T08:00:00Z', closedInStage: 'qualification', nextSteps: null }] },
            lost: { count: 1, amount: 1, amountsByCurrency: { EUR: 1 }, opportunities: [{ id: 'lost', title: 'Lost', ...card, closedAt: '2026-03-09T08:00:00Z', closedInStage: 'new', lostReason: 'price', nextSteps: null }] },
          },
        ],
      },
      now,
    );
    const qualification = { kind: 'stage', stageId: 'qualification', name: 'Qualification' } as const;
    const won = { kind: 'won', name: 'Won' } as const;
    const lost = { kind: 'lost', name: 'Lost' } as const;
    expect([shownAt(columns, 'open', qualification), shownAt(columns, 'open', { kind: 'stage', stageId: 'new', name: 'New' }), shownAt(columns, 'open', won)]).toEqual([true, false, false]);
    expect([shownAt(columns, 'won', won), shownAt(columns, 'won', lost), shownAt(columns, 'won', qualification)]).toEqual([true, false, false]);
    expect([shownAt(columns, 'lost', lost), shownAt(columns, 'lost', won), shownAt(columns, 'nowhere', qualification)]).toEqual([true, false, false]);
  });

  it('lists the newest deals found beyond the board, past those the board shows, and says when there are more', () => {
    const hit = (id: string) => ({ id, title: id, processId: 'standard', processVersion: 'v1', status: 'lost' as const, stageId: null, closedAt: '2026-01-01T00:00:00Z', ownerId: null, teamId: null, amount: null, currency: null });
    const columns = [{ cards: [{ id: 'a' }, { id: 'b' }] }] as unknown as Parameters<typeof listedBeyondBoard>[1];
    const listed = (hits: readonly string[], most: number, cut = false) => {
      const { deals, more } = listedBeyondBoard(hits.map(hit), columns, most, cut);
      return [deals.map((deal) => deal.id), more];
    };
    // The newest found are on the board: the list is made of the others.
    expect(listed(['a', 'b', 'c'], 2)).toEqual([['c'], false]);
    expect(listed(['a', 'c', 'b', 'd'], 2)).toEqual([['c', 'd'], false]);
    expect(listed(['c', 'd', 'e'], 2)).toEqual([['c', 'd'], true]);
    // The search read no further: there may be more.
    expect(listed(['a', 'c'], 2, true)).toEqual([['c'], true]);
  });

  describe('a deal the rep just created or moved, which its crowded column leaves out (withDealsShown)', () => {
    const crowded = (omitted: number): PipelineResult => ({
      processes: [
        {
          processId: 'standard',
          stages: [
            {
              stageId: 'new', name: 'New', probability: 10, count: 1 + omitted, amount: 0, amountsByCurrency: {}, weightedAmount: 0, weightedAmountsByCurrency: {}, rotAfterDays: null,
              opportunities: [{ id: 'longest', title: 'Longest', ownerId: 'ana', teamId: 'direct', amount: null, currency: null, stageEnteredAt: '2026-01-01T00:00:00Z', expectedCloseDate: null }],
              opportunitiesOmitted: omitted,
            },
            { stageId: 'qualification', name: 'Qualification', probability: 20, count: 0, amount: 0, amountsByCurrency: {}, weightedAmount: 0, weightedAmountsByCurrency: {}, rotAfterDays: null, opportunities: [] },
          ],
        },
      ],
    });
    const deal = (id: string, changes: Partial<OpportunityView> = {}): OpportunityView => ({
      id, processId: 'standard', processVersion: 'v1', title: `Deal ${id}`, teamId: 'direct', ownerId: 'bob', amount: 1200, currency: 'EUR', stage: 'new', stageName: 'New', status: 'open',
      criteriaMet: [], exitCriteria: [{ id: 'budget', description: 'There is a budget', met: true }, { id: 'need', description: 'A need', met: false }],
      lostReason: null, wonReason: null, nextSteps: null, expectedCloseDate: '2026-03-09', revision: 2, position: 10, openedAt: '2026-03-08T12:00:00Z', stageEnteredAt: '2026-03-08T12:00:00Z', closedAt: null,
      ...changes,
    });

    it('draws it at the end of its column, as its card would be, and leaves one card fewer out', () => {
      const [column] = withDealsShown(boardColumns(definition, crowded(5), now), [deal('mine')], 'standard', 'direct', now, 'UTC');
      expect(column!.cards.map((card) => card.id)).toEqual(['longest', 'mine']);
      expect([column!.count, column!.omitted, column!.more, column!.capped]).toEqual([6, 4, '4 more not shown', true]);
      const mine = column!.cards[1]!;
      expect([mine.title, mine.owner, mine.amount, mine.stageId, mine.status, mine.daysInStage, mine.criteria, mine.overdue, mine.processVersion]).toEqual(['Deal mine', 'bob', '€1,200', 'new', 'open', 2, { met: 1, total: 2 }, true, 'v1']);
    });

    it('draws no more of them than the column leaves out: the last one left out, it says nothing more is', () => {
      const [column] = withDealsShown(boardColumns(definition, crowded(1), now), [deal('mine'), deal('also-mine')], 'standard', '', now, 'UTC');
      expect(column!.cards.map((card) => card.id)).toEqual(['longest', 'mine']);
      expect([column!.omitted, column!.more, column!.capped]).toEqual([0, null, false]);
    });

    it('leaves alone a deal already listed, closed, moved on to a column that lists everything, of another process, or of a team not shown', () => {
      const columns = boardColumns(definition, crowded(5), now);
      const others = [deal('longest'), deal('lost', { status: 'lost' }), deal('on', { stage: 'qualification' }), deal('elsewhere', { processId: 'inside-sales' }), deal('partners', { teamId: 'partners' })];
      expect(withDealsShown(columns, others, 'standard', 'direct', now)).toEqual(columns);
      // With every team shown, the partners deal is drawn.
      expect(withDealsShown(columns, others, 'standard', '', now)[0]!.cards.map((card) => card.id)).toEqual(['longest', 'partners']);
    });
  });

  it('names a deal found beyond the board with its title and owner isolated (U+2068 … U+2069): a right-to-left title does not carry the stage and owner into its order', () => {
    const hit = { id: 'o9', title: 'עסקת אקמי', ownerId: 'ana', processId: 'standard', processVersion: 'v1', status: 'open' as const, stageId: 'new', closedAt: null, teamId: null, amount: null, currency: null };
    expect(searchHitText(hit, () => 'New')).toBe('\u2068עסקת אקמי\u2069 — \u2068New\u2069 · \u2068ana\u2069');
    expect(searchHitText({ ...hit, ownerId: null }, () => 'New')).toBe('\u2068עסקת אקמי\u2069 — \u2068New\u2069 · unassigned');
    // The stage too: a right-to-left stage name would take the dash and the owner into its order.
    expect(searchHitText({ ...hit, title: 'ACME' }, () => 'חדש')).toBe('\u2068ACME\u2069 — \u2068חדש\u2069 · \u2068ana\u2069');
  });
});
