import { queryForecast, queryForecastAccuracy, queryForecastAsOf, queryRotting, queryRottingAsOf } from '../forecast.queries';
import { funnelProjection, queryFunnel } from '../funnel.projection';
import { PIPELINE_MODEL_LAYOUT, pipelineProjection, queryPipeline, querySearchOpportunities } from '../pipeline.projection';
import type { ReadModelKey } from '../projection.types';
import { rebuildInstruction, type ReadModels } from '../runner/read-models.port';
import { queryStageDurations, stageDurationsProjection } from '../stage-durations.projection';
import { queryPipelineAsOf, STAGE_INTERVALS_MODEL_LAYOUT, stageIntervalsProjection, type StageIntervalsModel } from '../stage-intervals.projection';
import { queryTransitions, transitionsProjection } from '../transitions.projection';
import { queryWinLoss, winLossProjection } from '../win-loss.projection';
import { queryLearnedForecast, queryLearnedPipeline, queryWinProbabilityCalibration } from '../win-probability.queries';
import { WIN_PROBABILITY_MODEL_LAYOUT, winProbabilityProjection, type WinProbabilityModel } from '../win-probability.projection';
import { queryCohorts } from '../cohorts.queries';
import { queryVelocity } from '../velocity.queries';
import { queryWaterfall } from '../waterfall.queries';
import { ReadModelUnavailableError, type AnalyticsQueries } from './analytics-queries.port';
import { readAtPosition } from './answer-position';

/** How many times an answer of several queries is made while the models move on under it (oneSnapshot). */
const ONE_SNAPSHOT_ATTEMPTS = 3;

/** The queries over read models kept in memory (by this process's runner, or loaded from a projector's snapshots). */

export function inMemoryAnalyticsQueries(readModels: ReadModels): AnalyticsQueries {
  // A projection that stopped on a bad event answers an error, not stale figures; one waiting for
  // an event log it cannot reach now follows again by itself, so nobody is sent to rebuild it; nor
  // for one the status does not count as stopped (a projector's model not saved yet, which its
  // first save brings: the follower has nothing to rebuild).
  const model = <Model>(key: ReadModelKey<Model>): Model => {
    const failure = readModels.failure(key.name);
    if (failure) {
      const status = readModels.status().find((candidate) => candidate.name === key.name);
      if (status?.recovering) {
        throw new ReadModelUnavailableError('PROJECTIONS.UNAVAILABLE', `The ${key.name} read model cannot follow the event log now (${failure}); it follows again once the log can be read.`, key.name);
      }
      if (status !== undefined && status.failed === undefined) {
        throw new ReadModelUnavailableError('PROJECTIONS.UNAVAILABLE', `The ${key.name} read model cannot be served yet (${failure}).`, key.name);
      }
      // Says how to rebuild it: by this API's route, or by the projector's command where another process projects.
      throw new ReadModelUnavailableError('PROJECTIONS.FAILED', `The ${key.name} read model stopped (${failure}); an operator must fix the cause, then rebuild it${rebuildInstruction([key.name], readModels)}.`, key.name);
    }
    // Every working model has folded in position() (this one may be further): the query that reads it now runs at once, whole.
    readAtPosition(readModels.position());
    return readModels.model(key);
  };
  // With PROJECTIONS=external, a projector not yet upgraded saves intervals without the forecast columns.
  const intervals = (): StageIntervalsModel => {
    const saved = model(stageIntervalsProjection);
    if (saved.layout !== STAGE_INTERVALS_MODEL_LAYOUT) {
      throw new ReadModelUnavailableError('PROJECTIONS.FAILED', 'The stage-intervals read model was saved by an older version of Stagecraft and has no expected close dates; upgrade the projector and let it rebuild.', 'stage-intervals');
    }
    return saved;
  };
  // With PROJECTIONS=external, a projector not yet upgraded saves the win-probability model of an
  // older layout: its visits lack the stage and version they were entered in, which every learned
  // figure reads (a TypeError, a 500 on /pipeline, were it read as if it had them).
  const winProbability = (): WinProbabilityModel => {
    const saved = model(winProbabilityProjection);
    if (saved.layout !== WIN_PROBABILITY_MODEL_LAYOUT) {
      throw new ReadModelUnavailableError('PROJECTIONS.FAILED', 'The win-probability read model was saved by an older version of Stagecraft and lacks the stage each visit was entered in; upgrade the projector and let it rebuild.', winProbabilityProjection.name);
    }
    return saved;
  };
  const queries: AnalyticsQueries = {
    // Each query reads the models whole, at once; the runner folds pages in between. An answer whose
    // models moved on between its queries is made again (a few times at most: the models are then
    // folding faster than it is made, and the last one goes, its header the lowest position read).
    oneSnapshot: async (work) => {
      for (let attempt = 1; ; attempt++) {
        const before = readModels.position();
        const value = await work(queries);
        if (readModels.position() === before || attempt === ONE_SNAPSHOT_ATTEMPTS) return value;
      }
    },
    pipeline: async (filter, options = {}) => {
      const pipeline = model(pipelineProjection);
      // With PROJECTIONS=external the model comes from the projector's snapshots: one of an older
      // layout (a projector not yet upgraded) has no closed columns to answer from.
      if (options.closed && pipeline.layout !== PIPELINE_MODEL_LAYOUT) {
        throw new ReadModelUnavailableError('PROJECTIONS.FAILED', 'The pipeline read model was saved by an older version of Stagecraft and cannot list closed opportunities; upgrade the projector and let it rebuild.', 'pipeline');
      }
      return queryPipeline(pipeline, filter, options);
    },
    searchOpportunities: async (query) => {
      const pipeline = model(pipelineProjection);
      if (pipeline.layout !== PIPELINE_MODEL_LAYOUT) {
        throw new ReadModelUnavailableError('PROJECTIONS.FAILED', 'The pipeline read model was saved by an older version of Stagecraft and cannot list closed opportunities; upgrade the projector and let it rebuild.', 'pipeline');
      }
      return querySearchOpportunities(pipeline, query);
    },
    pipelineAsOf: async (atMs, filter, options) => queryPipelineAsOf(model(stageIntervalsProjection), atMs, filter, options),
    winLoss: async (filter, groupBy) => queryWinLoss(model(winLossProjection), filter, groupBy),
    stageDurations: async (filter, now) => queryStageDurations(model(stageDurationsProjection), filter, now),
    funnel: async (filter) => queryFunnel(model(funnelProjection), filter),
    transitions: async (filter) => queryTransitions(model(transitionsProjection), filter),
    forecast: async (query) => queryForecast(intervals(), query),
    forecastAsOf: async (atMs, query) => queryForecastAsOf(intervals(), atMs, query),
    forecastAccuracy: async (query) => queryForecastAccuracy(intervals(), query),
    rotting: async (nowMs, query) => queryRotting(intervals(), nowMs, query),
    rottingAsOf: async (atMs, query) => queryRottingAsOf(intervals(), atMs, query),
    learnedPipeline: async (query) => queryLearnedPipeline(winProbability(), intervals(), query),
    learnedForecast: async (query) => queryLearnedForecast(winProbability(), intervals(), query),
    winProbabilityCalibration: async (filter) => queryWinProbabilityCalibration(winProbability(), filter),
    waterfall: async (query) => queryWaterfall(intervals(), query),
    velocity: async (query) => queryVelocity(intervals(), query),
    cohorts: async (filter) => queryCohorts(model(funnelProjection), intervals(), filter),
    position: () => readModels.position(),
    waitFor: (position, timeoutMs) => readModels.waitFor(position, timeoutMs),
    status: () => readModels.status(),
    rebuildInstruction: (names) => rebuildInstruction(names, readModels),
  };
  return queries;
}
