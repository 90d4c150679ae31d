import type { WaterfallResult } from '@stagecraft/contracts';
import { waterfallLines, waterfallPeriod } from './waterfall.model';

const money = (count: number, amounts: Record<string, number> = {}) => ({ count, amountsByCurrency: amounts, weightedAmountsByCurrency: {} });
const change = (bucket: string, count: number) => ({ bucket, count, amountsByCurrency: {}, steps: Math.abs(count) });

describe('the waterfall chart lines', () => {
  it('stacks each bucket on the running count, from the start count to the end count; memos have no bar', () => {
    const answer = {
      from: '',
      to: '',
      start: money(3, { EUR: 10 }),
      changes: [change('created', 2), change('won', -1), change('lost', -1)],
      memos: [change('pushedOut', 1)],
      end: money(3),
    } as unknown as WaterfallResult;
    expect(waterfallLines(answer).map((line) => [line.key, line.bar])).toEqual([
      ['start', [0, 3]],
      ['created', [3, 5]],
      ['won', [5, 4]],
      ['lost', [4, 3]],
      ['end', [0, 3]],
      ['pushedOut', null],
    ]);
  });

  it('keeps the period in the address, else the last 7 days', () => {
    const today = new Date('2026-03-20T15:00:00Z');
    expect(waterfallPeriod(new URLSearchParams(''), today)).toEqual({ from: '2026-03-13', to: '2026-03-20' });
    expect(waterfallPeriod(new URLSearchParams('waterfallFrom=2026-01-01&waterfallTo=2026-02-01'), today)).toEqual({ from: '2026-01-01', to: '2026-02-01' });
    expect(waterfallPeriod(new URLSearchParams('waterfallFrom=junk'), today)).toEqual({ from: '2026-03-13', to: '2026-03-20' });
  });
});
