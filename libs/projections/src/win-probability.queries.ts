import type { ForecastResult, PipelineResult, WinProbabilityCalibrationResult } from '@stagecraft/contracts';
import { forecastDaysOf } from './forecast.figures';
import type { ForecastQuery } from './forecast.queries';
import type { PipelineFilter } from './pipeline.projection';
import { parseFilter, soleCurrencyTotal } from './projection.helpers';
import type { AnalyticsFilter } from './projection.types';
import { NO_DAY, type StageIntervalsModel } from './stage-intervals.projection';
import { calibrationOf, estimatorAsOf, learnedForecastFigures, learnedPipelineFigures, WinProbabilityEstimator, type LearnedForecastFigures, type LearnedPipelineFigures, type OpenDeal } from './win-probability.model';
import { learningVisitOf, learningVisitsOf, type WinProbabilityModel } from './win-probability.projection';

// The learned win probability answered from the in-memory models: what it learns from is the
// win-probability model's labelled visits; the deals it estimates are the stage-intervals
// segments standing at the instant asked (the board's own rows, in the board's order).

/** What /pipeline asks: the board now (`asOf` false, aged at `atMs`) or as it stood at `atMs`. */
export interface LearnedPipelineQuery {
  readonly atMs: number;
  readonly asOf: boolean;
  readonly filter: PipelineFilter;
  /** Cards whose probabilities to list. */
  readonly cardIds: readonly string[];
}

// The live estimator is kept and advanced over the visits labelled since: a board request does
// not re-learn the whole history. Keyed by model object (a snapshot reload starts afresh).
const live = new WeakMap<WinProbabilityModel, { learned: number; estimator: WinProbabilityEstimator }>();

export function liveEstimatorOf(model: WinProbabilityModel): WinProbabilityEstimator {
  let cached = live.get(model);
  if (!cached) live.set(model, (cached = { learned: 0, estimator: new WinProbabilityEstimator() }));
  const labelled = model.labelled.values;
  for (; cached.learned < model.labelled.length; cached.learned++) cached.estimator.learn(learningVisitOf(model, labelled[cached.learned]!));
  return cached.estimator;
}

/** What /analytics/forecast?include=learned asks: now (aged at `atMs`) or as of `atMs`. */
export interface LearnedForecastQuery {
  readonly atMs: number;
  readonly asOf: boolean;
  readonly forecast: ForecastQuery;
}

export function queryLearnedPipeline(model: WinProbabilityModel, intervals: StageIntervalsModel, query: LearnedPipelineQuery): LearnedPipelineFigures {
  const { atMs, asOf } = query;
  const estimator = asOf ? estimatorAsOf(learningVisitsOf(model), atMs) : liveEstimatorOf(model);
  return learnedPipelineFigures(estimator, openDealsOf(model, intervals, query), atMs, new Set(query.cardIds));
}

export function queryLearnedForecast(model: WinProbabilityModel, intervals: StageIntervalsModel, { atMs, asOf, forecast }: LearnedForecastQuery): LearnedForecastFigures {
  const estimator = asOf ? estimatorAsOf(learningVisitsOf(model), atMs) : liveEstimatorOf(model);
  return learnedForecastFigures(estimator, openDealsOf(model, intervals, { atMs, asOf, filter: forecast }), atMs, forecast.period, forecastDaysOf(forecast));
}

function openDealsOf(model: WinProbabilityModel, intervals: StageIntervalsModel, { atMs, asOf, filter }: { atMs: number; asOf: boolean; filter: PipelineFilter }): OpenDeal[] {
  const code = (codes: { codeOf: Map<string, number> }, value: string | undefined) => (value === undefined ? -1 : (codes.codeOf.get(value) ?? -2));
  const processCode = code(intervals.table.processes, filter.processId);
  const teamCode = code(intervals.teams, filter.teamId);
  const ownerCode = code(intervals.owners, filter.ownerId);
  if (processCode === -2 || teamCode === -2 || ownerCode === -2) return [];
  const { segments, catalog } = intervals;
  const deals: OpenDeal[] = [];
  for (const segment of asOf ? segmentsStandingAt(intervals, atMs) : currentSegments(intervals)) {
    const row = segments.row.values[segment]!;
    if (processCode >= 0 && intervals.table.process.values[row] !== processCode) continue;
    if (teamCode >= 0 && segments.team.values[segment] !== teamCode) continue;
    if (ownerCode >= 0 && segments.owner.values[segment] !== ownerCode) continue;
    const id = intervals.ids[row]!;
    const learningRow = model.table.indexById.get(id);
    const flagged = learningRow !== undefined && (asOf ? model.firstFlagMs.values[learningRow]! <= atMs : model.flagged.values[learningRow] === 1);
    const stage = catalog.stages[segments.stageKey.values[segment]!]!;
    const currency = segments.currency.values[segment]!;
    deals.push({
      opportunityId: id,
      processId: stage.processId,
      stageId: stage.stageId,
      enteredMs: segments.enteredMs.values[segment]!,
      flagged,
      configuredProbability: segments.probability.values[segment]!,
      amount: segments.amount.values[segment]!,
      currency: currency < 0 ? null : intervals.currencies.values[currency]!,
      ...(segments.expectedDay.values[segment] === NO_DAY ? {} : { expectedDay: segments.expectedDay.values[segment]! }),
    });
  }
  return deals;
}

/** Every segment standing at an instant, in segment order (the order of the positions that began them). */
function segmentsStandingAt({ segments }: StageIntervalsModel, atMs: number): number[] {
  const found: number[] = [];
  const start = segments.startMs.values;
  const end = segments.endMs.values;
  for (let segment = 0; segment < segments.row.length; segment++) if (start[segment]! <= atMs && atMs < end[segment]!) found.push(segment);
  return found;
}

/** The open deals' current segments, in segment order: one per open row, without a pass over every segment ever recorded. */
function currentSegments({ current, table }: StageIntervalsModel): Int32Array {
  const found = new Int32Array(table.rows);
  let count = 0;
  for (let row = 0; row < table.rows; row++) if (current.values[row]! >= 0) found[count++] = current.values[row]!;
  return found.subarray(0, count).sort();
}

/** GET /analytics/win-probability/calibration: stage entries in the period (filters: process, the deal's current team and owner). */
export function queryWinProbabilityCalibration(model: WinProbabilityModel, filter: AnalyticsFilter): WinProbabilityCalibrationResult {
  const { fromMs, toMs } = parseFilter(filter);
  const visits = learningVisitsOf(model);
  const { table } = model;
  const code = (codes: { codeOf: Map<string, number> }, value: string | undefined) => (value === undefined ? -1 : (codes.codeOf.get(value) ?? -2));
  const teamCode = code(table.teams, filter.teamId);
  const ownerCode = code(table.owners, filter.ownerId);
  const entries = visits.filter((visit) => {
    if (!(fromMs <= visit.enteredMs && visit.enteredMs <= toMs)) return false;
    if (filter.processId !== undefined && visit.processId !== filter.processId) return false;
    const row = table.indexById.get(visit.opportunityId)!;
    return (teamCode === -1 || table.team.values[row] === teamCode) && (ownerCode === -1 || table.owner.values[row] === ownerCode);
  });
  return calibrationOf(visits, entries, rangeOf(filter));
}

export const rangeOf = (filter: AnalyticsFilter) => ({
  from: filter.from === undefined ? null : new Date(parseFilter(filter).fromMs).toISOString(),
  to: filter.to === undefined ? null : new Date(parseFilter(filter).toMs).toISOString(),
});

/** The pipeline answer with the learned probabilities beside the configured ones (cards and stages). */
export function withLearnedWinProbability<Result extends PipelineResult>(result: Result, learned: LearnedPipelineFigures): Result {
  const byStage = new Map(learned.stages.map((stage) => [`${stage.processId}\u0000${stage.stageId}`, stage]));
  return {
    ...result,
    processes: result.processes.map((process) => ({
      ...process,
      stages: process.stages.map((stage) => {
        const figures = byStage.get(`${process.processId}\u0000${stage.stageId}`);
        const withFigures = {
          ...stage,
          // Never added across currencies: the sum only when the stage's deals share one (as weightedAmount).
          weightedAmountLearned: soleCurrencyTotal(figures?.weightedAmountsLearnedByCurrency ?? {}),
          weightedAmountsLearnedByCurrency: figures?.weightedAmountsLearnedByCurrency ?? {},
        };
        if (!stage.opportunities) return withFigures;
        return { ...withFigures, opportunities: stage.opportunities.map((card) => ({ ...card, ...learned.cards[card.id] })) };
      }),
    })),
  };
}

/** The forecast answer with the learned weighted amounts beside the configured ones. */
export function withLearnedForecast<Result extends ForecastResult>(result: Result, learned: LearnedForecastFigures): Result {
  return {
    ...result,
    periods: result.periods.map((period) => ({ ...period, open: { ...period.open, weightedAmountsLearnedByCurrency: learned.periods[period.period] ?? {} } })),
    withoutDate: { ...result.withoutDate, weightedAmountsLearnedByCurrency: learned.withoutDate },
  };
}

/** Every card id a pipeline answer lists. */
export const cardIdsOf = (result: PipelineResult): string[] => result.processes.flatMap((process) => process.stages.flatMap((stage) => (stage.opportunities ?? []).map((card) => card.id)));
