import type { VelocityFigures, VelocityGroup, VelocityGroupBy, VelocityResult } from '@stagecraft/contracts';
import { compareIds } from './process-catalog';
import { dictionary, NO_CURRENCY } from './projection.helpers';
import { ExactSum, unitsOf } from './exact-amounts';
import type { SegmentWalker, WaterfallSegments } from './waterfall.figures';

// Sales velocity over a window (from, to], from the same walk over the board segments as the
// waterfall (waterfall.figures.ts: "counted" is open and in the filter at that instant):
//   - opportunities: the deals counted at some instant of [from, to] (in every group they were in);
//   - won / lost: the waterfall's won and lost changes (closings in the window), in the group the
//     deal was counted in up to its closing (the state just before the instant: one handed over at
//     the very instant it is won is won in the team it leaves; win/loss groups it in the new one);
//   - winRate = won / (won + lost); averageWonAmountsByCurrency: the amounts of the deals won (as
//     they stood when won), summed exactly and divided per currency;
//   - averageCycleDays: mean of (win − opening) in days of business time over the wins;
//   - velocityByCurrency = opportunities × winRate × average won amount ÷ averageCycleDays (none
//     when there is no win or the mean cycle is 0).
// Every sum is exact (whole minor units, whole milliseconds), so both read sides answer the same
// figures whatever order they walk in.

const DAY_MS = 86_400_000;

class Levers {
  readonly worked = new Set<string>();
  won = 0;
  lost = 0;
  cycleMs = 0;
  readonly amounts = new Map<string, { sum: ExactSum; wins: number }>();

  figures(): VelocityFigures {
    const closed = this.won + this.lost;
    const winRate = closed === 0 ? null : this.won / closed;
    const averageCycleDays = this.won === 0 ? null : this.cycleMs / this.won / DAY_MS;
    const averageWonAmountsByCurrency = dictionary<number>();
    const velocityByCurrency = dictionary<number>();
    for (const currency of [...this.amounts.keys()].sort(compareIds)) {
      const { sum, wins } = this.amounts.get(currency)!;
      const average = sum.value() / wins;
      averageWonAmountsByCurrency[currency] = average;
      if (winRate !== null && averageCycleDays !== null && averageCycleDays > 0) velocityByCurrency[currency] = (this.worked.size * winRate * average) / averageCycleDays;
    }
    return { opportunities: this.worked.size, won: this.won, lost: this.lost, winRate, averageWonAmountsByCurrency, averageCycleDays, velocityByCurrency };
  }
}

export class VelocityTally implements SegmentWalker {
  private readonly total = new Levers();
  private readonly groups = new Map<string | null, Levers>();

  constructor(
    private readonly segments: WaterfallSegments,
    private readonly groupBy: VelocityGroupBy | undefined,
  ) {}

  overlapping(segment: number): void {
    for (const levers of this.leversOf(segment)) levers.worked.add(this.segments.id(segment));
  }

  standing(): void {}
  entered(): void {}
  changed(): void {}

  left(segment: number, atMs: number, bucket: 'won' | 'lost' | 'movedOut'): void {
    if (bucket === 'movedOut') return;
    const amount = this.segments.amount(segment);
    const currency = this.segments.currency(segment) ?? NO_CURRENCY;
    for (const levers of this.leversOf(segment)) {
      if (bucket === 'lost') {
        levers.lost++;
        continue;
      }
      levers.won++;
      levers.cycleMs += atMs - this.segments.openedMs(segment);
      if (Number.isNaN(amount)) continue;
      let entry = levers.amounts.get(currency);
      if (!entry) levers.amounts.set(currency, (entry = { sum: new ExactSum(), wins: 0 }));
      entry.sum.add(unitsOf(amount));
      entry.wins++;
    }
  }

  result(fromMs: number, toMs: number): VelocityResult {
    const result = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), total: this.total.figures() };
    if (this.groupBy === undefined) return result;
    const keys = [...this.groups.keys()].sort((a, b) => (a === null ? -1 : b === null ? 1 : compareIds(a, b)));
    return { ...result, groups: keys.map((key): VelocityGroup => ({ key, ...this.groups.get(key)!.figures() })) };
  }

  private leversOf(segment: number): Levers[] {
    if (this.groupBy === undefined) return [this.total];
    const key = this.groupBy === 'team' ? this.segments.teamId(segment) : this.groupBy === 'owner' ? this.segments.ownerId(segment) : this.segments.processId(segment);
    let levers = this.groups.get(key);
    if (!levers) this.groups.set(key, (levers = new Levers()));
    return [this.total, levers];
  }
}
