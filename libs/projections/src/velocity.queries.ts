import type { VelocityGroupBy, VelocityResult } from '@stagecraft/contracts';
import type { StageIntervalsModel } from './stage-intervals.projection';
import { VelocityTally } from './velocity.figures';
import { walkStageIntervals, type WindowQuery } from './waterfall.queries';

export interface VelocityQuery extends WindowQuery {
  readonly groupBy?: VelocityGroupBy;
}

/** Sales velocity from the stage-intervals read model (rules: velocity.figures.ts). */
export function queryVelocity(model: StageIntervalsModel, query: VelocityQuery): VelocityResult {
  let tally: VelocityTally | undefined;
  walkStageIntervals(model, query, (reader) => (tally = new VelocityTally(reader, query.groupBy)));
  return tally!.result(query.fromMs, query.toMs);
}
