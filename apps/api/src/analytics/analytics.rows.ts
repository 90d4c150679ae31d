import type { ConvertedAmount } from '@stagecraft/contracts';
import type { OpportunitySearchResult, CohortsResult, WinProbabilityCalibrationResult, ForecastAccuracyResult, ForecastResult, RottingResult, FunnelResult, PipelineResult, StageDurationsResult, TransitionsResult, VelocityFigures, VelocityResult, WaterfallChangeOpportunity, WaterfallFigures, WaterfallResult, WinLossFigures, WinLossResult } from '@stagecraft/projections';

// Each analytics answer as flat rows, for CSV: one row per thing an analyst would put on a line.

/**
 * An answer's CSV: its rows, and the columns they have, written as the header when there are no
 * rows (a fresh store, a filter or a window that matches nothing). toCsv takes the header from the
 * first row otherwise, so an empty answer would be a bare line end that no CSV reader can take
 * columns from. A test checks each list against the header of an answer with rows.
 */
export interface CsvTable<T> {
  readonly rows: (result: T) => Record<string, unknown>[];
  readonly columns: readonly string[];
  /** The columns the rows add after those when a currencies file is configured (the converted totals). */
  readonly convertedColumns?: readonly string[];
}

export function pipelineRows(result: PipelineResult): Record<string, unknown>[] {
  return result.processes.flatMap((process) => [
    ...process.stages.map(({ stageId, name, probability, count, amount, weightedAmount, amountsByCurrency, weightedAmountsByCurrency, converted }) => ({
      processId: process.processId,
      stageId,
      name,
      probability,
      count,
      // Empty when the column holds several currencies: never a sum of EUR and USD.
      amount,
      weightedAmount,
      amountsByCurrency,
      weightedAmountsByCurrency,
      ...convertedColumns(converted?.amount, converted?.weightedAmount),
    })),
    // With ?closed=, a line per outcome after the stages, as the board's Won and Lost columns.
    ...(['won', 'lost'] as const).flatMap((outcome) => {
      const section = process[outcome];
      if (!section) return [];
      const { count, amount, amountsByCurrency, converted } = section;
      return [
        {
          processId: process.processId,
          stageId: outcome,
          name: outcome === 'won' ? 'Won' : 'Lost',
          probability: null,
          count,
          amount,
          weightedAmount: null,
          amountsByCurrency,
          weightedAmountsByCurrency: null,
          ...convertedColumns(converted?.amount, undefined),
        },
      ];
    }),
  ]);
}

/** A win/loss line in its columns' order (the CSV header is the first line's keys): `line` before the converted columns. */
const figures = (line: 'total' | 'group', { won, lost, winRate, amountWon, amountWonByCurrency, amountLost, amountLostByCurrency, lostReasons, wonReasons, converted }: WinLossFigures) => ({
  won,
  lost,
  winRate,
  amountWon,
  amountWonByCurrency,
  amountLost,
  amountLostByCurrency,
  lostReasons,
  wonReasons,
  line,
  ...(converted
    ? {
        convertedCurrency: converted.amountWon.currency,
        convertedAmountWon: converted.amountWon.amount,
        convertedAmountLost: converted.amountLost.amount,
        rateDate: converted.amountWon.rateDate,
        ratesUsed: [...converted.amountWon.rates, ...converted.amountLost.rates.filter((rate) => !converted.amountWon.rates.some((used) => used.currency === rate.currency))],
        missingRates: [...new Set([...converted.amountWon.missingRates, ...converted.amountLost.missingRates])],
      }
    : {}),
});

/**
 * The converted total's columns (only with a currencies file): currency, amounts, the day, the rates
 * used and the currencies without one (why an amount is empty; a weighted amount has the same
 * currencies as its amount, so the same ones).
 */
function convertedColumns(amount: ConvertedAmount | undefined, weighted: ConvertedAmount | undefined): Record<string, unknown> {
  if (!amount) return {};
  return { convertedCurrency: amount.currency, convertedAmount: amount.amount, convertedWeightedAmount: weighted?.amount ?? null, rateDate: amount.rateDate, ratesUsed: amount.rates, missingRates: amount.missingRates };
}

/**
 * The total line first, then a line per group, as velocity's CSV does: a sheet gets the win rate of
 * all groups (which no sum of the lines gives), and `line` tells the total from a group keyed "total".
 */
export function winLossRows(result: WinLossResult): Record<string, unknown>[] {
  return [{ group: 'total', ...figures('total', result.total) }, ...(result.groups ?? []).map((group) => ({ group: group.key, ...figures('group', group) }))];
}

export function stageDurationRows(result: StageDurationsResult): Record<string, unknown>[] {
  return result.processes.flatMap((process) =>
    process.stages.map(({ stageId, completed, open }) => ({
      processId: process.processId,
      stageId,
      completedCount: completed.count,
      meanSeconds: completed.meanSeconds,
      medianSeconds: completed.medianSeconds,
      p90Seconds: completed.p90Seconds,
      openCount: open.count,
      oldestOpenAgeSeconds: open.oldestAgeSeconds,
    })),
  );
}

export function funnelRows(result: FunnelResult): Record<string, unknown>[] {
  return result.processes.flatMap((process) => [
    ...process.stages.map(({ stageId, reached, conversionToNext }) => ({ processId: process.processId, step: stageId, reached, conversionToNext })),
    { processId: process.processId, step: 'won', reached: process.won, conversionToNext: null },
  ]);
}

export function transitionRows(result: TransitionsResult): Record<string, unknown>[] {
  return result.processes.flatMap((process) =>
    Object.entries(process.matrix).flatMap(([from, row]) => Object.entries(row).map(([to, count]) => ({ processId: process.processId, from, to, count }))),
  );
}

// Money is never added across currencies: a line per period and currency (the counts are the period's).
const currenciesOf = (...sums: Readonly<Record<string, number>>[]) => [...new Set(sums.flatMap((sum) => Object.keys(sum)))].sort();

export function forecastRows(result: ForecastResult): Record<string, unknown>[] {
  const lines = (period: string | null, from: string | null, to: string | null, open: ForecastResult['withoutDate'], won: ForecastResult['periods'][number]['won'] | undefined): Record<string, unknown>[] => {
    const currencies = currenciesOf(open.amountsByCurrency, won?.amountsByCurrency ?? {});
    const base = { period, from, to, openCount: open.count, wonCount: won?.count ?? null };
    if (currencies.length === 0) return [{ ...base, currency: null, openAmount: null, weightedAmount: null, wonAmount: null }];
    return currencies.map((currency) => ({
      ...base,
      currency,
      openAmount: open.amountsByCurrency[currency] ?? 0,
      weightedAmount: open.weightedAmountsByCurrency[currency] ?? 0,
      wonAmount: won ? (won.amountsByCurrency[currency] ?? 0) : null,
    }));
  };
  return [...result.periods.flatMap((p) => lines(p.period, p.from, p.to, p.open, p.won)), ...lines('without date', null, null, result.withoutDate, undefined)];
}

export function forecastAccuracyRows(result: ForecastAccuracyResult): Record<string, unknown>[] {
  return result.periods.flatMap((p): Record<string, unknown>[] => {
    const currencies = currenciesOf(p.forecast.amountsByCurrency, p.won.amountsByCurrency);
    const base = { period: p.period, from: p.from, to: p.to, forecastCount: p.forecast.count, wonCount: p.won.count, forecastWon: p.forecastWon };
    if (currencies.length === 0) return [{ ...base, currency: null, forecastAmount: null, forecastWeightedAmount: null, wonAmount: null }];
    return currencies.map((currency) => ({
      ...base,
      currency,
      forecastAmount: p.forecast.amountsByCurrency[currency] ?? 0,
      forecastWeightedAmount: p.forecast.weightedAmountsByCurrency[currency] ?? 0,
      wonAmount: p.won.amountsByCurrency[currency] ?? 0,
    }));
  });
}

export function rottingRows(result: RottingResult): Record<string, unknown>[] {
  return result.opportunities.map((line) => ({ ...line }));
}

/** A line per reliability bin (learned and configured side by side), then one for all estimates with the Brier scores. */
export function winProbabilityCalibrationRows(result: WinProbabilityCalibrationResult): Record<string, unknown>[] {
  return [
    ...result.bins.map(({ from, to, learned, configured }) => ({
      bin: `${from}-${to}`,
      learnedCount: learned.count,
      learnedMeanPredicted: learned.meanPredicted,
      learnedObservedWinRate: learned.observedWinRate,
      configuredCount: configured.count,
      configuredMeanPredicted: configured.meanPredicted,
      configuredObservedWinRate: configured.observedWinRate,
      brierLearned: null,
      brierConfigured: null,
    })),
    {
      bin: 'all',
      learnedCount: result.estimates,
      learnedMeanPredicted: null,
      learnedObservedWinRate: result.estimates === 0 ? null : (result.won / result.estimates) * 100,
      configuredCount: result.estimates,
      configuredMeanPredicted: null,
      configuredObservedWinRate: result.estimates === 0 ? null : (result.won / result.estimates) * 100,
      brierLearned: result.brierLearned,
      brierConfigured: result.brierConfigured,
    },
  ];
}

/**
 * The waterfall as lines: start, each bucket, end (then the memos), one line per currency (a line
 * without any amount has currency null); with by=stage the stages' lines follow the totals'; with
 * include=opportunities one line per deal's change instead, under its bucket.
 */
export function waterfallRows(result: WaterfallResult): Record<string, unknown>[] {
  const linesOf = (processId: string | null, stageId: string | null, figures: WaterfallFigures): Record<string, unknown>[] => {
    const where = { processId, stageId };
    const money = (line: string, count: number, steps: number | null, amounts: Readonly<Record<string, number>>, weighted?: Readonly<Record<string, number>>): Record<string, unknown>[] => {
      const currencies = Object.keys(amounts);
      const base = { ...where, line, count, steps };
      if (currencies.length === 0) return [{ ...base, currency: null, amount: null, weightedAmount: null }];
      return currencies.map((currency) => ({ ...base, currency, amount: amounts[currency], weightedAmount: weighted ? (weighted[currency] ?? 0) : null }));
    };
    const changes = [...figures.changes, ...figures.memos];
    if (changes.some((change) => change.opportunities !== undefined)) {
      return changes.flatMap((change): Record<string, unknown>[] => (change.opportunities ?? []).map((o: WaterfallChangeOpportunity) => ({ ...where, line: change.bucket, id: o.id, title: o.title, at: o.at, count: o.count, currency: o.currency, amount: o.amount })));
    }
    return [
      ...money('start', figures.start.count, null, figures.start.amountsByCurrency, figures.start.weightedAmountsByCurrency),
      ...figures.changes.flatMap((change) => money(change.bucket, change.count, change.steps, change.amountsByCurrency)),
      ...money('end', figures.end.count, null, figures.end.amountsByCurrency, figures.end.weightedAmountsByCurrency),
      ...figures.memos.flatMap((memo) => money(memo.bucket, memo.count, memo.steps, memo.amountsByCurrency)),
    ];
  };
  return [
    ...linesOf(null, null, result),
    ...(result.processes ?? []).flatMap((process) => process.stages.flatMap((stage) => linesOf(process.processId, stage.stageId, stage))),
  ];
}

/** Velocity as lines: the total, then each group; one line per currency of the amounts won (currency null: none won). */
export function velocityRows(result: VelocityResult): Record<string, unknown>[] {
  const lines = (group: string | null, key: string | null, figures: VelocityFigures): Record<string, unknown>[] => {
    const base = { group, key, opportunities: figures.opportunities, won: figures.won, lost: figures.lost, winRate: figures.winRate, averageCycleDays: figures.averageCycleDays };
    const currencies = Object.keys(figures.averageWonAmountsByCurrency);
    if (currencies.length === 0) return [{ ...base, currency: null, averageWonAmount: null, velocity: null }];
    return currencies.map((currency) => ({ ...base, currency, averageWonAmount: figures.averageWonAmountsByCurrency[currency], velocity: figures.velocityByCurrency[currency] ?? null }));
  };
  return [...lines('total', null, result.total), ...(result.groups ?? []).flatMap((group) => lines('group', group.key, group))];
}

/**
 * Cohorts as lines: one per cohort, process and stage (reached, conversion to the next step), then
 * one per cohort and process for won — each cohort's funnel as the funnel's CSV gives it, so the
 * conversions the JSON answers are in the CSV too (the last stage's is its conversion to won).
 */
export function cohortRows(result: CohortsResult): Record<string, unknown>[] {
  return result.cohorts.flatMap((cohort) => {
    const base = { cohort: cohort.cohort, opened: cohort.opened, won: cohort.won, medianDaysToWin: cohort.medianDaysToWin };
    return cohort.processes.flatMap((process) => funnelRows({ processes: [process] }).map((step) => ({ ...base, ...step })));
  });
}

export const PIPELINE_CSV: CsvTable<PipelineResult> = {
  rows: pipelineRows,
  columns: ['processId', 'stageId', 'name', 'probability', 'count', 'amount', 'weightedAmount', 'amountsByCurrency', 'weightedAmountsByCurrency'],
  convertedColumns: ['convertedCurrency', 'convertedAmount', 'convertedWeightedAmount', 'rateDate', 'ratesUsed', 'missingRates'],
};
export const WIN_LOSS_CSV: CsvTable<WinLossResult> = {
  rows: winLossRows,
  // `line` last, so that the columns a sheet already reads keep their places.
  columns: ['group', 'won', 'lost', 'winRate', 'amountWon', 'amountWonByCurrency', 'amountLost', 'amountLostByCurrency', 'lostReasons', 'wonReasons', 'line'],
  convertedColumns: ['convertedCurrency', 'convertedAmountWon', 'convertedAmountLost', 'rateDate', 'ratesUsed', 'missingRates'],
};
export const STAGE_DURATIONS_CSV: CsvTable<StageDurationsResult> = { rows: stageDurationRows, columns: ['processId', 'stageId', 'completedCount', 'meanSeconds', 'medianSeconds', 'p90Seconds', 'openCount', 'oldestOpenAgeSeconds'] };
export const FUNNEL_CSV: CsvTable<FunnelResult> = { rows: funnelRows, columns: ['processId', 'step', 'reached', 'conversionToNext'] };
export const TRANSITIONS_CSV: CsvTable<TransitionsResult> = { rows: transitionRows, columns: ['processId', 'from', 'to', 'count'] };
export const FORECAST_CSV: CsvTable<ForecastResult> = { rows: forecastRows, columns: ['period', 'from', 'to', 'openCount', 'wonCount', 'currency', 'openAmount', 'weightedAmount', 'wonAmount'] };
export const FORECAST_ACCURACY_CSV: CsvTable<ForecastAccuracyResult> = {
  rows: forecastAccuracyRows,
  columns: ['period', 'from', 'to', 'forecastCount', 'wonCount', 'forecastWon', 'currency', 'forecastAmount', 'forecastWeightedAmount', 'wonAmount'],
};
export const ROTTING_CSV: CsvTable<RottingResult> = {
  rows: rottingRows,
  columns: ['id', 'title', 'processId', 'stageId', 'stageEnteredAt', 'daysInStage', 'rotAfterDays', 'ownerId', 'teamId', 'amount', 'currency', 'expectedCloseDate'],
};
export const CALIBRATION_CSV: CsvTable<WinProbabilityCalibrationResult> = {
  rows: winProbabilityCalibrationRows,
  columns: ['bin', 'learnedCount', 'learnedMeanPredicted', 'learnedObservedWinRate', 'configuredCount', 'configuredMeanPredicted', 'configuredObservedWinRate', 'brierLearned', 'brierConfigured'],
};
/** With include=opportunities the waterfall has a line per deal's change, and none when nothing changed (its totals always have lines). */
export const WATERFALL_CSV: CsvTable<WaterfallResult> = { rows: waterfallRows, columns: ['processId', 'stageId', 'line', 'id', 'title', 'at', 'count', 'currency', 'amount'] };
export const VELOCITY_CSV: CsvTable<VelocityResult> = { rows: velocityRows, columns: ['group', 'key', 'opportunities', 'won', 'lost', 'winRate', 'averageCycleDays', 'currency', 'averageWonAmount', 'velocity'] };
export const COHORTS_CSV: CsvTable<CohortsResult> = { rows: cohortRows, columns: ['cohort', 'opened', 'won', 'medianDaysToWin', 'processId', 'step', 'reached', 'conversionToNext'] };
/** A line per deal found; the cursor of the next page goes in the X-Next-After header. */
export const SEARCH_CSV: CsvTable<OpportunitySearchResult> = {
  rows: (result) => result.opportunities.map((hit) => ({ ...hit })),
  columns: ['id', 'title', 'processId', 'processVersion', 'status', 'stageId', 'closedAt', 'ownerId', 'teamId', 'amount', 'currency'],
};
