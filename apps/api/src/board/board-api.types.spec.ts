import type { FunnelResult, PipelineResult, StageDurationsResult, WinLossResult } from '@stagecraft/projections';
import type * as Board from '../../../board/src/api.types';
import type { CommandOutcome } from '@stagecraft/commands';
import type { HistoryEntry, OpportunityView } from '../opportunities/opportunity.queries';
import type { ProcessesController } from '../processes/processes.controller';

// The board reads the API's JSON through its own plain types (apps/board/src/api.types.ts, bundled
// for the browser without the server's code). These checks fail to compile when an answer of the
// API stops fitting what the board expects.

type Fits<Answer, Expected> = [Answer] extends [Expected] ? true : false;

const checks: Record<string, true> = {
  processList: true satisfies Fits<ReturnType<ProcessesController['list']>, Board.ProcessList>,
  processDetail: true satisfies Fits<ReturnType<ProcessesController['get']>, Board.ProcessDetail>,
  pipeline: true satisfies Fits<PipelineResult, Board.PipelineAnswer>,
  winLoss: true satisfies Fits<WinLossResult, Board.WinLossAnswer>,
  funnel: true satisfies Fits<FunnelResult, Board.FunnelAnswer>,
  stageDurations: true satisfies Fits<StageDurationsResult, Board.StageDurationsAnswer>,
  command: true satisfies Fits<Omit<CommandOutcome, 'replayed'>, Board.CommandAnswer>,
  opportunity: true satisfies Fits<OpportunityView, Board.OpportunityAnswer>,
  history: true satisfies Fits<{ events: HistoryEntry[] }, Board.HistoryAnswer>,
};

describe("the board's types of the API's answers", () => {
  it('are the shapes the API answers (checked by the compiler)', () => {
    expect(Object.values(checks).every((fits) => fits)).toBe(true);
  });
});
