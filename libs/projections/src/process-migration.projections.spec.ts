import { funnelProjection, queryFunnel } from './funnel.projection';
import { pipelineProjection, queryPipeline } from './pipeline.projection';
import { queryStageDurations, stageDurationsProjection } from './stage-durations.projection';
import { queryPipelineAsOf, stageIntervalsProjection } from './stage-intervals.projection';
import { at, log, standardV1, standardV2 } from './testing/log.fixtures';
import { project } from './testing/project';
import { queryTransitions, transitionsProjection } from './transitions.projection';

// One deal on v1 (new → legacy), migrated at minute 20 to v2, which has no "legacy": mapped to
// "won-over", where it is won at minute 40. Another stays in "new" and is migrated without mapping.
const events = [
  log.version(standardV1),
  log.opened('a', standardV1, 0, { amount: 1000 }),
  log.opened('b', standardV1, 0, { amount: 100 }),
  log.moved('a', 'new', 'legacy', 10),
  log.version(standardV2),
  log.migrated('a', standardV1, standardV2, 'legacy', 'won-over', 20, { legacy: 'won-over' }),
  log.migrated('b', standardV1, standardV2, 'new', 'new', 25),
];
const won = [...events, log.won('a', 'won-over', 40)];

describe('read models after a process migration', () => {
  it('pipeline: the deal sits in the mapped stage, weighted by the new version', () => {
    const stages = queryPipeline(project(pipelineProjection, events)).processes[0]!.stages;
    // v2: new 30 %, won-over 90 %.
    expect(stages.map((s) => [s.stageId, s.count, s.weightedAmount])).toEqual([
      ['new', 1, 30],
      ['won-over', 1, 900],
      ['legacy', 0, 0],
    ]);
  });

  it('stage durations: past visits keep their stage; the open visit continues under the mapped one', () => {
    const stages = queryStageDurations(project(stageDurationsProjection, won), {}, at(60)).processes[0]!.stages;
    const byId = Object.fromEntries(stages.map((s) => [s.stageId, s]));
    expect(byId.new!.completed).toMatchObject({ count: 1, meanSeconds: 600 });
    expect(byId.new!.open.count).toBe(1); // b, still in new
    // The visit began in "legacy" at minute 10 and ended (won) at 40: 30 minutes, under "won-over".
    expect(byId['won-over']!.completed).toMatchObject({ count: 1, meanSeconds: 1800 });
    expect(byId.legacy!.completed.count).toBe(0);
  });

  it('transitions: a migration is not a move; the next move starts from the mapped stage', () => {
    expect(queryTransitions(project(transitionsProjection, won)).processes[0]!.matrix).toEqual({ new: { legacy: 1 }, 'won-over': { won: 1 } });
  });

  it('funnel: counted under the new version, having reached the mapped stage', () => {
    const funnel = queryFunnel(project(funnelProjection, won)).processes[0]!;
    expect(funnel.stages.map((s) => [s.stageId, s.reached])).toEqual([
      ['new', 2],
      ['won-over', 1],
      ['legacy', 0],
    ]);
    expect(funnel.won).toBe(1);
  });

  it('the board as of before the migration shows v1 stages and weights; after, v2', () => {
    const model = project(stageIntervalsProjection, won);
    const board = (minute: number) => queryPipelineAsOf(model, Date.parse(at(minute))).processes[0]!.stages.map((s) => [s.stageId, s.count, s.weightedAmount]);
    // v1: new 10 %, legacy 40 %.
    expect(board(15)).toEqual([['new', 1, 10], ['won-over', 0, 0], ['legacy', 1, 400]]);
    expect(board(30)).toEqual([['new', 1, 30], ['won-over', 1, 900], ['legacy', 0, 0]]);
    expect(board(45)).toEqual([['new', 1, 30], ['won-over', 0, 0], ['legacy', 0, 0]]);
  });
});
