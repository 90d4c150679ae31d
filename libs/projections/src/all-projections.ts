import { funnelProjection } from './funnel.projection';
import { pipelineProjection } from './pipeline.projection';
import { stageDurationsProjection } from './stage-durations.projection';
import { stageIntervalsProjection } from './stage-intervals.projection';
import { transitionsProjection } from './transitions.projection';
import { winLossProjection } from './win-loss.projection';
import { winProbabilityProjection } from './win-probability.projection';

/** Every read model, for the runner to rebuild and keep up to date; names are unique. */
export const ALL_PROJECTIONS = [pipelineProjection, winLossProjection, stageDurationsProjection, funnelProjection, transitionsProjection, stageIntervalsProjection, winProbabilityProjection] as const;
