import { funnelProjection } from '../funnel.projection';
import { pipelineProjection } from '../pipeline.projection';
import { stageDurationsProjection } from '../stage-durations.projection';
import { stageIntervalsProjection } from '../stage-intervals.projection';
import { transitionsProjection } from '../transitions.projection';
import { winLossProjection } from '../win-loss.projection';
import { winProbabilityProjection } from '../win-probability.projection';
import type { AnalyticsQueries } from './analytics-queries.port';

/** A question the read side answers: one of AnalyticsQueries' queries. */
export type AnalyticsQueryName = Exclude<keyof AnalyticsQueries, 'position' | 'waitFor' | 'status' | 'oneSnapshot' | 'rebuildInstruction'>;

/**
 * The read models (projection names) each query reads. In memory each model stops on its own, so
 * whether a read-your-writes wait can end depends on these; in PostgreSQL they share one schema and
 * one status. The in-memory adapter reads exactly these (its spec checks it).
 */
export const QUERY_READ_MODELS: { readonly [Query in AnalyticsQueryName]: readonly string[] } = {
  pipeline: [pipelineProjection.name],
  pipelineAsOf: [stageIntervalsProjection.name],
  searchOpportunities: [pipelineProjection.name],
  winLoss: [winLossProjection.name],
  stageDurations: [stageDurationsProjection.name],
  funnel: [funnelProjection.name],
  transitions: [transitionsProjection.name],
  forecast: [stageIntervalsProjection.name],
  forecastAsOf: [stageIntervalsProjection.name],
  forecastAccuracy: [stageIntervalsProjection.name],
  rotting: [stageIntervalsProjection.name],
  rottingAsOf: [stageIntervalsProjection.name],
  learnedPipeline: [winProbabilityProjection.name, stageIntervalsProjection.name],
  learnedForecast: [winProbabilityProjection.name, stageIntervalsProjection.name],
  winProbabilityCalibration: [winProbabilityProjection.name],
  waterfall: [stageIntervalsProjection.name],
  velocity: [stageIntervalsProjection.name],
  cohorts: [funnelProjection.name, stageIntervalsProjection.name],
};

/** The read models an answer made of these queries reads, each once. */
export function readModelsOf(queries: readonly AnalyticsQueryName[]): string[] {
  return [...new Set(queries.flatMap((query) => QUERY_READ_MODELS[query]))];
}
