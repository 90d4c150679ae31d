import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import type { CurrencyRates } from '@stagecraft/config';
import type { PipelineResult, PipelineStage } from '@stagecraft/contracts';
import { convertAmounts, dayOf, withConvertedForecast, withConvertedPipeline, withConvertedWinLoss } from './currency-conversion';

const rates: CurrencyRates = {
  file: 'currencies.yaml',
  reportingCurrency: 'EUR',
  rates: [
    { currency: 'GBP', rate: 1.17, from: '2026-01-01' },
    { currency: 'USD', rate: 0.92, from: '2026-01-01' },
    { currency: 'USD', rate: 0.95, from: '2026-07-01' },
  ],
};

describe('converted totals', () => {
  it('use the rate in force on the day: the latest from not after it', () => {
    expect(convertAmounts({ EUR: 20_000, USD: 30_000 }, rates, '2026-06-30')).toEqual({
      currency: 'EUR',
      amount: 20_000 + 30_000 * 0.92,
      rateDate: '2026-06-30',
      rates: [{ currency: 'USD', rate: 0.92, from: '2026-01-01' }],
      missingRates: [],
    });
    expect(convertAmounts({ USD: 100 }, rates, '2026-07-01').rates).toEqual([{ currency: 'USD', rate: 0.95, from: '2026-07-01' }]);
    expect(convertAmounts({}, rates, '2026-07-01')).toMatchObject({ amount: 0, rates: [], missingRates: [] });
  });

  it('give no total when a currency has no rate that day, naming it (amounts without a currency too)', () => {
    expect(convertAmounts({ USD: 1, JPY: 5 }, rates, '2026-03-01')).toMatchObject({ amount: null, missingRates: ['JPY'] });
    expect(convertAmounts({ USD: 1 }, rates, '2025-12-31')).toMatchObject({ amount: null, missingRates: ['USD'] });
    expect(convertAmounts({ unspecified: 7 }, rates, '2026-03-01')).toMatchObject({ amount: null, missingRates: ['unspecified'] });
  });

  it('equal a brute-force conversion of every per-currency sum at the day asked', () => {
    const currency = fc.constantFrom('EUR', 'USD', 'GBP', 'JPY', 'unspecified');
    const day = fc.integer({ min: Date.UTC(2025, 11, 1), max: Date.UTC(2026, 11, 31) }).map(dayOf);
    assertProperty(
      fc.property(fc.dictionary(currency, fc.double({ min: 0, max: 1e9, noNaN: true })), day, (byCurrency, on) => {
        const converted = convertAmounts(byCurrency, rates, on);
        // Brute force: for each currency, every rate of it whose day has come, the latest wins.
        let expected: number | null = 0;
        const used: { currency: string; rate: number; from: string }[] = [];
        for (const [code, sum] of Object.entries(byCurrency)) {
          if (code === 'EUR') {
            expected = expected === null ? null : expected + sum;
            continue;
          }
          const candidates = rates.rates.filter((rate) => rate.currency === code && Date.parse(rate.from) <= Date.parse(on));
          const latest = candidates.sort((a, b) => Date.parse(b.from) - Date.parse(a.from))[0];
          if (!latest) expected = null;
          else {
            used.push(latest);
            if (expected !== null) expected += sum * latest.rate;
          }
        }
        expect(converted.rates).toEqual(used);
        if (expected === null) expect(converted.amount).toBeNull();
        else expect(converted.amount).toBeCloseTo(expected, 3);
        expect(converted.missingRates).toEqual(Object.keys(byCurrency).filter((code) => code !== 'EUR' && !used.some((rate) => rate.currency === code)));
      }),
    );
  });

  it('label the board and win/loss: open columns at their day, closed sections and win/loss at the end of their window', () => {
    const stage = { stageId: 's', name: 'S', probability: 50, count: 2, amount: null, amountsByCurrency: { EUR: 10, USD: 100 }, weightedAmount: null, weightedAmountsByCurrency: { EUR: 5, USD: 50 }, rotAfterDays: null } satisfies PipelineStage;
    const board: PipelineResult = { processes: [{ processId: 'p', stages: [stage], won: { count: 1, amount: 100, amountsByCurrency: { USD: 100 } } }] };
    const converted = withConvertedPipeline(board, rates, '2026-07-02', '2026-06-01');
    expect(converted.processes[0]!.stages[0]!.converted).toMatchObject({ amount: { amount: 10 + 95, rateDate: '2026-07-02' }, weightedAmount: { amount: 5 + 47.5 } });
    expect(converted.processes[0]!.won!.converted!.amount).toMatchObject({ amount: 92, rateDate: '2026-06-01' });
    // The read side's per-currency figures are left as they were.
    expect(converted.processes[0]!.stages[0]).toMatchObject({ amount: null, amountsByCurrency: { EUR: 10, USD: 100 } });
    const winLoss = withConvertedWinLoss(
      { total: { won: 1, lost: 1, winRate: 0.5, amountWon: 100, amountWonByCurrency: { USD: 100 }, amountLost: 10, amountLostByCurrency: { GBP: 10 }, lostReasons: {}, wonReasons: {} } },
      rates,
      '2026-02-01',
    );
    expect(winLoss.total.converted).toMatchObject({ amountWon: { amount: 92 }, amountLost: { amount: 11.7 } });
  });

  it('convert every period of the forecast at the forecast\'s own day, open amounts and weighted amounts, won amounts and the deals without a date', () => {
    const open = { count: 2, amountsByCurrency: { EUR: 10, USD: 100 }, weightedAmountsByCurrency: { EUR: 5, USD: 50 } };
    const forecast = withConvertedForecast(
      { period: 'month', asOf: null, periods: [{ period: '2026-08', from: '2026-08-01', to: '2026-08-31', open, won: { count: 1, amountsByCurrency: { USD: 100 } } }], withoutDate: { ...open, amountsByCurrency: { JPY: 1000 } } },
      rates,
      '2026-07-02',
    );
    const [august] = forecast.periods;
    expect(august!.open.converted).toMatchObject({ amount: { amount: 10 + 95, rateDate: '2026-07-02' }, weightedAmount: { amount: 5 + 47.5, rateDate: '2026-07-02' } });
    // A period after the forecast's day still uses that day's rates: the future ones are not known.
    expect(august!.won.converted!.amount).toMatchObject({ amount: 95, rateDate: '2026-07-02' });
    expect(forecast.withoutDate.converted!.amount).toMatchObject({ amount: null, missingRates: ['JPY'] });
    expect(august!.open.amountsByCurrency).toEqual({ EUR: 10, USD: 100 });
  });
});
