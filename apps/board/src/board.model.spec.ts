import type { PipelineAnswer, ProcessDetail, WinLossAnswer } from './api.types';
import { boardColumns, moveCommand, moveTargets } from './board.model';

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
const noOutcomes: WinLossAnswer = { total: { won: 0, lost: 0, winRate: null, amountWon: 0, amountWonByCurrency: {}, lostReasons: {} } };
const now = new Date('2026-03-10T12:00:00Z');

describe('the board model', () => {
  it('has one column per stage in process order, then Won and Lost, with the figures the API gave', () => {
    const pipeline: PipelineAnswer = {
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
              opportunities: [{ id: 'a', title: 'A', ownerId: 'ana', teamId: 'direct', amount: 1000, currency: 'EUR', stageEnteredAt: '2026-03-07T13:00:00Z' }],
            },
            { stageId: 'qualification', name: 'Qualification', probability: 20, count: 0, amount: 0, amountsByCurrency: {}, weightedAmount: 0, weightedAmountsByCurrency: {} },
            // Only an older version of the process has this stage: its deals still show.
            { stageId: 'legacy', name: 'Legacy', probability: 30, count: 2, amount: 300, amountsByCurrency: { EUR: 100, USD: 200 }, weightedAmount: 90, weightedAmountsByCurrency: {} },
          ],
        },
      ],
    };
    const outcomes: WinLossAnswer = { total: { won: 3, lost: 2, winRate: 0.6, amountWon: 5000, amountWonByCurrency: { EUR: 5000 }, lostReasons: { price: 2 } } };
    const columns = boardColumns(definition, pipeline, outcomes, now);

    expect(columns.map((column) => [column.key, column.count, column.amount, column.weightedAmount])).toEqual([
      ['new', 1, '€1,000', '€100'],
      ['qualification', 0, '0', '0'],
      ['legacy', 2, '300', '90'],
      ['won', 3, '€5,000', null],
      ['lost', 2, '', null],
    ]);
    expect(columns[0]!.cards).toEqual([{ id: 'a', title: 'A', owner: 'ana', amount: '€1,000', daysInStage: 2, stageId: 'new' }]);
  });

  it('shows empty stage columns for a process without opportunities (absent from the pipeline)', () => {
    const columns = boardColumns(definition, { processes: [] }, noOutcomes, now);
    expect(columns.map((column) => [column.key, column.count, column.cards.length])).toEqual([
      ['new', 0, 0],
      ['qualification', 0, 0],
      ['won', 0, 0],
      ['lost', 0, 0],
    ]);
  });

  it('offers every other column as a move target and sends the matching command', () => {
    const columns = boardColumns(definition, { processes: [] }, noOutcomes, now);
    const targets = moveTargets(columns, 'new');
    expect(targets.map((target) => target.name)).toEqual(['Qualification', 'Won', 'Lost']);
    expect(targets.map((target) => moveCommand('id-1', target, 'price'))).toEqual([
      { path: '/opportunities/id-1/move', body: { stage: 'qualification' } },
      { path: '/opportunities/id-1/win', body: {} },
      { path: '/opportunities/id-1/lose', body: { reason: 'price' } },
    ]);
  });
});
