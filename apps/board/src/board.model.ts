import type { PipelineAnswer, PipelineStageFigures, ProcessDetail, WinLossAnswer } from './api.types';
import { daysSince, formatAmount, formatMoney } from './format';

// What the board shows, computed from the API's answers alone. Pure (no DOM): unit-tested in
// board.model.spec.ts; board.view.ts only draws it.

/** Where a card can go: a stage of the process, or one of the two outcomes. */
export type MoveTarget = { readonly kind: 'stage'; readonly stageId: string; readonly name: string } | { readonly kind: 'won'; readonly name: string } | { readonly kind: 'lost'; readonly name: string };

export interface BoardCard {
  readonly id: string;
  readonly title: string;
  readonly owner: string;
  readonly amount: string;
  readonly daysInStage: number;
  readonly stageId: string;
}

export interface BoardColumn {
  /** The stage id, or "won" / "lost" (never stage ids: the process validator forbids them). */
  readonly key: string;
  readonly target: MoveTarget;
  readonly name: string;
  readonly probability: number | null;
  readonly count: number;
  readonly amount: string;
  /** Amount × stage probability; null for the outcome columns. */
  readonly weightedAmount: string | null;
  readonly cards: readonly BoardCard[];
}

type Definition = ProcessDetail['definition'];

/** One column per stage in process order (stages only older versions still hold come after), then Won and Lost. */
export function boardColumns(definition: Definition, pipeline: PipelineAnswer, winLoss: WinLossAnswer, now: Date): BoardColumn[] {
  const figures = pipeline.processes.find((process) => process.processId === definition.id)?.stages ?? [];
  const byStage = new Map(figures.map((stage) => [stage.stageId, stage]));
  const stageIds = [...definition.stages.map((stage) => stage.id), ...figures.map((stage) => stage.stageId).filter((id) => !definition.stages.some((stage) => stage.id === id))];
  const stageColumns = stageIds.map((stageId): BoardColumn => {
    const defined = definition.stages.find((stage) => stage.id === stageId);
    const stage: PipelineStageFigures | undefined = byStage.get(stageId);
    const name = defined?.name ?? stage?.name ?? stageId;
    return {
      key: stageId,
      target: { kind: 'stage', stageId, name },
      name,
      probability: defined?.probability ?? stage?.probability ?? null,
      count: stage?.count ?? 0,
      amount: formatAmount(stage?.amount ?? 0, stage?.amountsByCurrency),
      weightedAmount: formatAmount(stage?.weightedAmount ?? 0, stage?.weightedAmountsByCurrency),
      cards: (stage?.opportunities ?? []).map((card) => ({
        id: card.id,
        title: card.title,
        owner: card.ownerId ?? 'unassigned',
        amount: card.amount === null ? '–' : formatMoney(card.amount, card.currency),
        daysInStage: daysSince(card.stageEnteredAt, now),
        stageId,
      })),
    };
  });
  const { won, lost, amountWon, amountWonByCurrency } = winLoss.total;
  return [
    ...stageColumns,
    { key: 'won', target: { kind: 'won', name: 'Won' }, name: 'Won', probability: null, count: won, amount: formatAmount(amountWon, amountWonByCurrency), weightedAmount: null, cards: [] },
    { key: 'lost', target: { kind: 'lost', name: 'Lost' }, name: 'Lost', probability: null, count: lost, amount: '', weightedAmount: null, cards: [] },
  ];
}

/** The places a card in `stageId` may be offered to go: every other column. The API decides. */
export function moveTargets(columns: readonly BoardColumn[], stageId: string): MoveTarget[] {
  return columns.filter((column) => column.key !== stageId).map((column) => column.target);
}

/** The command a move to a target sends. */
export function moveCommand(opportunityId: string, target: MoveTarget, reason?: string): { path: string; body: Record<string, unknown> } {
  const base = `/opportunities/${encodeURIComponent(opportunityId)}`;
  switch (target.kind) {
    case 'stage':
      return { path: `${base}/move`, body: { stage: target.stageId } };
    case 'won':
      return { path: `${base}/win`, body: {} };
    case 'lost':
      return { path: `${base}/lose`, body: { reason } };
    default: {
      const exhaustive: never = target;
      throw new Error(`Unknown target ${JSON.stringify(exhaustive)}`);
    }
  }
}
