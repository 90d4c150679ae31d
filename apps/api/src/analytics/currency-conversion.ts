import type { CurrencyRates } from '@stagecraft/config';
import type { ConvertedAmount, ForecastMoney, ForecastOpen, ForecastResult, PipelineResult, WinLossFigures, WinLossResult } from '@stagecraft/contracts';

// Converted totals (issue 15): the read side answers money per currency only; with a currencies
// file the API adds, beside those sums, one total in the reporting currency, labelled with the
// day whose rates it used and every rate used.
//
// The rule for the day: ONE day per figure, the day the figure describes (UTC), never after today
// (rateDayUpTo: nothing is recorded ahead of the clock, so a later day describes today's figures,
// and a rate the file gives from a day still to come was in force for none of them):
// - the open columns of /pipeline: today, or the day of asOf;
// - the closed sections of /pipeline and win/loss: the last day of their window (closedTo / to),
//   today when not given;
// - the forecast: the day it stands at (today, or the day of asOf), for every period: a forecast
//   converts future amounts at the rates known when it is made.
// A sum over many deals is converted at one rate per currency, so the answer can list the rates
// it used and anyone can check it; it is not each deal converted on its own close day.
// A currency without a rate in force that day (or amounts without a currency) cannot be
// converted: the total is then null and `missingRates` names them.

const DAY_MS = 86_400_000;

/** The UTC day (YYYY-MM-DD) of an instant. */
export function dayOf(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/**
 * The day a figure converts at: the day of the instant it describes (`untilMs`: the end of a
 * closed window — the closed sections of /pipeline, win/loss —, or the asOf of the open columns and
 * of the forecast; undefined: now), never a day after today. No business time is ahead of the
 * clock, so a window that ends later holds what closed up to now, and a board or a forecast as of a
 * later instant is today's; a rate the file gives from a day still to come was in force for none of
 * it, and is one a forecast made today cannot know. One rule for every route, so that the board's
 * Won/Lost columns and win/loss agree on the same deals, and the board as of next month and today's
 * board on the same columns.
 */
export function rateDayUpTo(untilMs: number | undefined, nowMs: number): string {
  return dayOf(untilMs === undefined ? nowMs : Math.min(untilMs, nowMs));
}

/** The rate of `currency` in force on `day`: the one with the latest `from` not after it. */
function rateOn(rates: CurrencyRates, currency: string, day: string): CurrencyRates['rates'][number] | undefined {
  let found: CurrencyRates['rates'][number] | undefined;
  for (const rate of rates.rates) if (rate.currency === currency && rate.from <= day) found = rate;
  return found;
}

export function convertAmounts(byCurrency: Readonly<Record<string, number>>, rates: CurrencyRates, day: string): ConvertedAmount {
  let amount = 0;
  const used: { currency: string; rate: number; from: string }[] = [];
  const missingRates: string[] = [];
  for (const [currency, sum] of Object.entries(byCurrency)) {
    if (currency === rates.reportingCurrency) {
      amount += sum;
      continue;
    }
    const rate = rateOn(rates, currency, day);
    if (!rate) {
      missingRates.push(currency);
      continue;
    }
    amount += sum * rate.rate;
    used.push({ currency, rate: rate.rate, from: rate.from });
  }
  return { currency: rates.reportingCurrency, amount: missingRates.length > 0 ? null : amount, rateDate: day, rates: used, missingRates };
}

/** The learned weighted amounts converted, when the answer has them (the learned figures are added first, so that they are converted with the rest). */
function learnedConverted(learned: Readonly<Record<string, number>> | undefined, rates: CurrencyRates, day: string): { weightedAmountLearned?: ConvertedAmount } {
  return learned === undefined ? {} : { weightedAmountLearned: convertAmounts(learned, rates, day) };
}

/** /pipeline with converted totals: open columns at `openDay`, closed sections at `closedDay`. */
export function withConvertedPipeline(result: PipelineResult, rates: CurrencyRates, openDay: string, closedDay: string): PipelineResult {
  return {
    ...result,
    processes: result.processes.map((process) => ({
      ...process,
      stages: process.stages.map((stage) => ({
        ...stage,
        converted: {
          amount: convertAmounts(stage.amountsByCurrency, rates, openDay),
          weightedAmount: convertAmounts(stage.weightedAmountsByCurrency, rates, openDay),
          ...learnedConverted(stage.weightedAmountsLearnedByCurrency, rates, openDay),
        },
      })),
      ...(process.won ? { won: { ...process.won, converted: { amount: convertAmounts(process.won.amountsByCurrency, rates, closedDay) } } } : {}),
      ...(process.lost ? { lost: { ...process.lost, converted: { amount: convertAmounts(process.lost.amountsByCurrency, rates, closedDay) } } } : {}),
    })),
  };
}

/** Win/loss with converted amounts won and lost, at `day`. */
export function withConvertedWinLoss(result: WinLossResult, rates: CurrencyRates, day: string): WinLossResult {
  const convert = <F extends WinLossFigures>(figures: F): F => ({
    ...figures,
    converted: { amountWon: convertAmounts(figures.amountWonByCurrency, rates, day), amountLost: convertAmounts(figures.amountLostByCurrency, rates, day) },
  });
  return { total: convert(result.total), ...(result.groups ? { groups: result.groups.map(convert) } : {}) };
}

/** The forecast with converted totals, every period at `day` (the forecast's own day). */
export function withConvertedForecast(result: ForecastResult, rates: CurrencyRates, day: string): ForecastResult {
  const money = (figures: ForecastMoney): ForecastMoney => ({ ...figures, converted: { amount: convertAmounts(figures.amountsByCurrency, rates, day) } });
  const open = (figures: ForecastOpen): ForecastOpen => ({
    ...figures,
    converted: {
      amount: convertAmounts(figures.amountsByCurrency, rates, day),
      weightedAmount: convertAmounts(figures.weightedAmountsByCurrency, rates, day),
      ...learnedConverted(figures.weightedAmountsLearnedByCurrency, rates, day),
    },
  });
  return { ...result, periods: result.periods.map((period) => ({ ...period, open: open(period.open), won: money(period.won) })), withoutDate: open(result.withoutDate) };
}
