import type { PipelineOpportunity, PipelineStage } from '@stagecraft/contracts';
import { storedInstant } from '@stagecraft/opportunity';
import { ExactSums } from './exact-amounts';
import type { CatalogStage } from './process-catalog';
import { dictionary, NO_CURRENCY, soleCurrencyTotal } from './projection.helpers';

const DAY_MS = 86_400_000;

/**
 * The figures of a board's stage columns, summed in one pass over rows (the live pipeline) or
 * segments (the pipeline as of an instant): count, amount and weighted amount per stage key, and
 * both per stage key × currency (slot 0: no currency, else currency code + 1). Amounts add exactly
 * (exact-amounts.ts); weighted amounts are float sums, in the order of the rows.
 */
export interface StageTotals {
  /** Counts a row in a stage; its amount (NaN: none, which adds nothing) weighted by `probability` (0–100). */
  add(stageKey: number, amount: number, probability: number, currency: number): void;
  /** Counts a row of the stage as rotting (only totals made to count them say `rotting`). */
  addRotting(stageKey: number): void;
  count(stageKey: number): number;
  /** The column's figures, as the API answers them. */
  stageOf(info: CatalogStage): PipelineStage;
}

export function createStageTotals(stageCount: number, currencies: readonly string[], countsRotting = false): StageTotals {
  const width = currencies.length + 1;
  const counts = new Int32Array(stageCount);
  const rotting = new Int32Array(stageCount);
  const byCurrency = new ExactSums(stageCount * width);
  const weightedByCurrency = new Float64Array(stageCount * width);
  const hasCurrency = new Uint8Array(stageCount * width);

  const perCurrency = (sumOf: (cell: number) => number, key: number): Record<string, number> => {
    const result = dictionary<number>();
    for (let slot = 0; slot < width; slot++) {
      if (hasCurrency[key * width + slot] === 1) result[slot === 0 ? NO_CURRENCY : currencies[slot - 1]!] = sumOf(key * width + slot);
    }
    return result;
  };

  return {
    add(key, amount, probability, currency) {
      counts[key]!++;
      if (Number.isNaN(amount)) return; // counted, adds nothing
      const share = (amount * probability) / 100;
      const cell = key * width + currency + 1;
      byCurrency.add(cell, amount);
      weightedByCurrency[cell]! += share;
      hasCurrency[cell] = 1;
    },
    addRotting(key) {
      rotting[key]!++;
    },
    count: (key) => counts[key]!,
    stageOf: (info) => {
      const amountsByCurrency = perCurrency((cell) => byCurrency.value(cell), info.key);
      const weightedAmountsByCurrency = perCurrency((cell) => weightedByCurrency[cell]!, info.key);
      return {
        stageId: info.stageId,
        name: info.name,
        probability: info.probability,
        count: counts[info.key]!,
        // Never EUR + USD: a total only when the column holds one currency.
        amount: soleCurrencyTotal(amountsByCurrency),
        amountsByCurrency,
        weightedAmount: soleCurrencyTotal(weightedAmountsByCurrency),
        weightedAmountsByCurrency,
        rotAfterDays: info.rotAfterDays ?? null,
        ...(countsRotting ? { rotting: rotting[info.key]! } : {}),
      };
    },
  };
}

/**
 * A column with its cards; capped columns also say how many of its count they leave out. With
 * `atMs` (the instant the board describes) each card says its whole days in the stage and whether
 * it is rotting, by the rule of GET /analytics/rotting (forecast.figures.ts: more than
 * rotAfterDays × 24 h since it entered the stage).
 */
export function withCards(stage: PipelineStage, cards: readonly PipelineOpportunity[], cap: number | undefined, atMs?: number): PipelineStage {
  const aged = atMs === undefined ? cards : cards.map((card) => agedCard(card, stage.rotAfterDays, atMs));
  return cap === undefined ? { ...stage, opportunities: aged } : { ...stage, opportunities: aged, opportunitiesOmitted: stage.count - aged.length };
}

/** Whether a deal that entered its stage at `enteredMs` is rotting at `atMs` (false for an unreadable entry time). */
export function isRotting(enteredMs: number, rotAfterDays: number | null | undefined, atMs: number): boolean {
  return rotAfterDays !== null && rotAfterDays !== undefined && atMs - enteredMs > rotAfterDays * DAY_MS;
}

function agedCard(card: PipelineOpportunity, rotAfterDays: number | null, atMs: number): PipelineOpportunity {
  const { daysInStage, rotting } = ageOf(card.stageEnteredAt, rotAfterDays, atMs);
  return { ...card, daysInStage, rotting };
}

/** What withCards adds to a card at `atMs`: its whole days in the stage and whether it is rotting. */
export function ageOf(stageEnteredAt: string, rotAfterDays: number | null, atMs: number): { daysInStage: number; rotting: boolean } {
  const enteredMs = storedInstant(stageEnteredAt);
  // Only a corrupt log or another tool leaves the entry time unreadable: such a card neither ages nor rots.
  if (!Number.isFinite(enteredMs)) return { daysInStage: 0, rotting: false };
  // An entry after the instant asked (recorded by an instance whose clock runs ahead of this one's,
  // or before this clock stepped back) is no time in the stage yet, never a negative one: the
  // board's own fallback (daysSince) and the open visits' oldest age floor it the same way.
  const age = Math.max(0, atMs - enteredMs);
  return { daysInStage: Math.floor(age / DAY_MS), rotting: isRotting(enteredMs, rotAfterDays, atMs) };
}
