import type { FunnelResult, PipelineResult, StageDurationsResult, TransitionsResult, WinLossFigures, WinLossResult } from '@stagecraft/projections';

// Each analytics answer as flat rows, for CSV: one row per thing an analyst would put on a line.

export function pipelineRows(result: PipelineResult): Record<string, unknown>[] {
  return result.processes.flatMap((process) => [
    ...process.stages.map(({ stageId, name, probability, count, amount, weightedAmount, amountsByCurrency }) => ({
      processId: process.processId,
      stageId,
      name,
      probability,
      count,
      amount,
      weightedAmount,
      amountsByCurrency,
    })),
    // With ?closed=, a line per outcome after the stages, as the board's Won and Lost columns.
    ...(['won', 'lost'] as const).flatMap((outcome) => {
      const section = process[outcome];
      if (!section) return [];
      const { count, amount, amountsByCurrency } = section;
      return [{ processId: process.processId, stageId: outcome, name: outcome === 'won' ? 'Won' : 'Lost', probability: null, count, amount, weightedAmount: null, amountsByCurrency }];
    }),
  ]);
}

const figures = ({ won, lost, winRate, amountWon, lostReasons }: WinLossFigures) => ({ won, lost, winRate, amountWon, lostReasons });

export function winLossRows(result: WinLossResult): Record<string, unknown>[] {
  if (!result.groups) return [{ group: 'total', ...figures(result.total) }];
  return result.groups.map((group) => ({ group: group.key, ...figures(group) }));
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
