import type { WaterfallBucket, WaterfallChange, WaterfallChangeOpportunity, WaterfallMemoBucket, WaterfallOpen, WaterfallProcess, WaterfallResult } from '@stagecraft/contracts';
import { ExactSum, unitsOf, valueOfUnits } from './exact-amounts';
import { compareIds, processesOf, stageOrderOf, type ProcessCatalog } from './process-catalog';
import { dictionary, NO_CURRENCY } from './projection.helpers';
import { encodeChangeKey, PageSelection, type WaterfallChangeKey, type WaterfallPage, type WaterfallQuestion } from './waterfall.page';

// The pipeline waterfall's figures, added up from the board segments a read side hands over: the
// in-memory stage intervals (waterfall.queries.ts) or PostgreSQL's board_segments, each in the
// order of the positions that started them. README ("For analysts": the pipeline waterfall) has
// the rules as an analyst reads them.
//
// A deal's state at an instant t is the one after every event at t (as the board as of t): open in
// a stage with an amount, currency, team, owner and expected close date — or not in the pipeline
// (not yet opened, won, lost). It COUNTS when it is open and matches the filter then (process;
// team and owner as they were at t). Each change of a deal's state at an instant in (from, to] goes
// to exactly one bucket (two for a currency change), with the difference of what it counts:
//   - not counted → counted: created (the instant is its opening), reopened (it was closed), or
//     movedIn (it was open outside the filter: another team or owner);
//   - counted → not counted: won, lost, or movedOut (still open, now outside the filter);
//   - counted → counted: amountIncreased / amountDecreased by the difference (a currency change is
//     a decrease of the old amount in the old currency and an increase in the new one); per stage
//     (by=stage) the amount changes in the old stage, then the deal leaves it (stageOut) and enters
//     the new one (stageIn) with its new amount. Summed over all stages these cancel, so the
//     totals have no stage buckets.
// So a deal created and won inside the window is in created (+1) and won (−1); one reopened twice
// is in reopened twice and in won/lost for each closing in the window; one whose amount changed
// and that was then lost shows the change in amountIncreased/Decreased and its last amount in lost.
// Hence start + Σ changes = end for the count and for every currency: exact, because amounts
// (at most AMOUNT_DECIMALS decimals) are added as whole minor units, not as binary fractions
// (exact-amounts.ts).
// Memos, outside the identity: pushedOut / pulledIn count the counted deals whose expected close
// date moved later / earlier (from one date to another), with their amount then.
// Weighted amounts (amount × the stage's probability / 100) are given for start and end only.

const negate = (units: number | bigint) => (typeof units === 'number' ? -units : -units);
const minus = (a: number | bigint, b: number | bigint) => (typeof a === 'number' && typeof b === 'number' ? a - b : BigInt(a) - BigInt(b));
const signOf = (units: number | bigint) => (units > 0 ? 1 : units < 0 ? -1 : 0);

/** What a read side tells about one of its segments (by its own index). */
export interface WaterfallSegments {
  /** The stage's key in the catalog passed to result(). */
  stageKey(segment: number): number;
  /** NaN: no amount. */
  amount(segment: number): number;
  currency(segment: number): string | null;
  probability(segment: number): number;
  /** Expected close date as a day number; NO_DAY (stage-intervals.projection.ts) when none. */
  expectedDay(segment: number): number;
  id(segment: number): string;
  title(segment: number): string;
  processId(segment: number): string;
  teamId(segment: number): string | null;
  ownerId(segment: number): string | null;
  /** The deal's opening instant (business time). */
  openedMs(segment: number): number;
}

/**
 * What a walk over the segments of a window (from, to] tells, as both read sides walk them
 * (waterfall.queries.ts, postgres-analytics.queries.ts): "counted" is open and in the filter.
 */
export interface SegmentWalker {
  /** A counted segment that stands at some instant of [from, to]. */
  overlapping(segment: number): void;
  /** A counted segment standing at `from` (start) or at `to` (end), in segment order. */
  standing(which: 'start' | 'end', segment: number): void;
  /** The deal counts from `atMs` on, as `segment`, and did not just before. */
  entered(segment: number, atMs: number, bucket: 'created' | 'reopened' | 'movedIn'): void;
  /** The deal counted as `segment` until `atMs`, and does not from then on. */
  left(segment: number, atMs: number, bucket: 'won' | 'lost' | 'movedOut'): void;
  /** The deal counted as `before` until `atMs` and counts as `after` from then on. */
  changed(before: number, after: number, atMs: number): void;
}

/** The day number of a segment without an expected close date. */
const NO_DAY = -2147483648;

class Line {
  count = 0;
  steps = 0;
  readonly amounts = new Map<string, ExactSum>();
  readonly weighted = new Map<string, number>();
  readonly listed: WaterfallChangeOpportunity[] = [];

  add(count: number, currency: string, units: number | bigint | undefined): void {
    this.count += count;
    this.steps++;
    if (units === undefined) return;
    let sum = this.amounts.get(currency);
    if (!sum) this.amounts.set(currency, (sum = new ExactSum()));
    sum.add(units);
  }

  open(): WaterfallOpen {
    return { count: this.count, amountsByCurrency: this.amountsByCurrency(), weightedAmountsByCurrency: sorted(this.weighted) };
  }

  amountsByCurrency(): Record<string, number> {
    const result = dictionary<number>();
    for (const key of [...this.amounts.keys()].sort(compareIds)) result[key] = this.amounts.get(key)!.value();
    return result;
  }

  change<Bucket extends string>(bucket: Bucket, list: boolean): WaterfallChange<Bucket> {
    const figures = { bucket, count: this.count, amountsByCurrency: this.amountsByCurrency(), steps: this.steps };
    if (!list) return figures;
    const opportunities = this.listed.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || compareIds(a.id, b.id) || compareIds(a.currency ?? '', b.currency ?? ''));
    return { ...figures, opportunities };
  }
}

function sorted(sums: Map<string, number>): Record<string, number> {
  const result = dictionary<number>();
  for (const key of [...sums.keys()].sort(compareIds)) result[key] = sums.get(key)!;
  return result;
}

/** The buckets of the totals, in answer order; per stage, stageIn and stageOut are added. */
export const TOTAL_BUCKETS: readonly WaterfallBucket[] = ['created', 'reopened', 'movedIn', 'amountIncreased', 'amountDecreased', 'movedOut', 'won', 'lost'];
export const STAGE_BUCKETS: readonly WaterfallBucket[] = ['created', 'reopened', 'movedIn', 'stageIn', 'amountIncreased', 'amountDecreased', 'stageOut', 'movedOut', 'won', 'lost'];
export const MEMO_BUCKETS: readonly WaterfallMemoBucket[] = ['pushedOut', 'pulledIn'];

type ChangeBucket = WaterfallBucket | WaterfallMemoBucket;
type AnyBucket = ChangeBucket | 'start' | 'end';

class Lines {
  private readonly lines = new Map<AnyBucket, Line>();
  line(bucket: AnyBucket): Line {
    let line = this.lines.get(bucket);
    if (!line) this.lines.set(bucket, (line = new Line()));
    return line;
  }
}

export interface WaterfallOptions {
  readonly byStage?: boolean;
  readonly includeOpportunities?: boolean;
  /**
   * With includeOpportunities: list only this page of the changes (waterfall.page.ts), and answer
   * `nextFromChange`; without it every change is listed (a library caller's choice: the API always pages).
   */
  readonly page?: WaterfallPage;
}

/** A change the drill-down may list: its place in the window's order, and what the item is made of once it is on the page. */
interface ListedChange {
  readonly key: WaterfallChangeKey;
  readonly segment: number;
  readonly count: number;
  readonly units: number | bigint | undefined;
  readonly lines: readonly Line[];
}

/** Adds up the segments and changes a read side finds for one waterfall question. */
export class WaterfallTally implements SegmentWalker {
  private readonly total = new Lines();
  private readonly totalOnly = [this.total];
  /** Per stage key: [the totals, the stage's lines]. */
  private readonly stages = new Map<number, Lines[]>();
  /** The changes on the page asked for (all of them without a page), made into items only at the end. */
  private readonly listed: PageSelection<ListedChange>;

  constructor(
    private readonly segments: WaterfallSegments,
    private readonly options: WaterfallOptions & WaterfallQuestion,
  ) {
    this.listed = new PageSelection(options.page);
  }

  overlapping(): void {}

  /** A counted segment standing at `from` (start) or at `to` (end); call in segment order (weighted sums are floats). */
  standing(which: 'start' | 'end', segment: number): void {
    const amount = this.segments.amount(segment);
    const currency = this.segments.currency(segment) ?? NO_CURRENCY;
    const units = Number.isNaN(amount) ? undefined : unitsOf(amount);
    const share = (amount * this.segments.probability(segment)) / 100;
    for (const lines of this.linesOf(this.segments.stageKey(segment))) {
      const line = lines.line(which);
      line.add(1, currency, units);
      if (units !== undefined) line.weighted.set(currency, (line.weighted.get(currency) ?? 0) + share);
    }
  }

  /** The deal counts from `atMs` on, as `segment`, and did not just before. */
  entered(segment: number, atMs: number, bucket: 'created' | 'reopened' | 'movedIn'): void {
    this.record(bucket, this.segments.stageKey(segment), segment, atMs, 1, this.segments.amount(segment), false);
  }

  /** The deal counted as `segment` until `atMs`, and does not from then on. */
  left(segment: number, atMs: number, bucket: 'won' | 'lost' | 'movedOut'): void {
    this.record(bucket, this.segments.stageKey(segment), segment, atMs, -1, this.segments.amount(segment), true);
  }

  /** The deal counted as `before` until `atMs` and counts as `after` from then on. */
  changed(before: number, after: number, atMs: number): void {
    const s = this.segments;
    const [amountBefore, amountAfter] = [s.amount(before), s.amount(after)];
    const [currencyBefore, currencyAfter] = [s.currency(before), s.currency(after)];
    const [stageBefore, stageAfter] = [s.stageKey(before), s.stageKey(after)];
    if (currencyBefore === currencyAfter && !Number.isNaN(amountBefore) && !Number.isNaN(amountAfter)) {
      const difference = minus(unitsOf(amountAfter), unitsOf(amountBefore));
      if (signOf(difference) !== 0) this.recordUnits(signOf(difference) > 0 ? 'amountIncreased' : 'amountDecreased', stageBefore, after, atMs, 0, currencyAfter, difference);
    } else {
      // Both halves of one change are listed as the deal stood after it (its title then), as every
      // change of a deal still counted is; only a deal leaving the count is listed as it stood before.
      if (!Number.isNaN(amountBefore)) this.recordUnits('amountDecreased', stageBefore, after, atMs, 0, currencyBefore, negate(unitsOf(amountBefore)));
      if (!Number.isNaN(amountAfter)) this.recordUnits('amountIncreased', stageBefore, after, atMs, 0, currencyAfter, unitsOf(amountAfter));
    }
    if (stageBefore !== stageAfter && this.options.byStage) {
      this.record('stageOut', stageBefore, after, atMs, -1, amountAfter, true, false);
      this.record('stageIn', stageAfter, after, atMs, 1, amountAfter, false, false);
    }
    const [dayBefore, dayAfter] = [s.expectedDay(before), s.expectedDay(after)];
    if (dayBefore !== NO_DAY && dayAfter !== NO_DAY && dayBefore !== dayAfter) {
      this.record(dayAfter > dayBefore ? 'pushedOut' : 'pulledIn', stageAfter, after, atMs, 1, amountAfter, false);
    }
  }

  result(catalog: ProcessCatalog, processId: string | undefined, fromMs: number, toMs: number): WaterfallResult {
    const list = this.options.includeOpportunities === true;
    const page = list ? this.listPage() : undefined;
    const figuresOf = (lines: Lines, buckets: readonly WaterfallBucket[]) => ({
      start: lines.line('start').open(),
      changes: buckets.map((bucket) => lines.line(bucket).change(bucket, list)),
      memos: MEMO_BUCKETS.map((bucket) => lines.line(bucket).change(bucket, list)),
      end: lines.line('end').open(),
    });
    const paging = page !== undefined && this.options.page !== undefined ? { nextFromChange: page.next === undefined ? null : encodeChangeKey(page.next, this.options) } : {};
    const result: WaterfallResult = { from: new Date(fromMs).toISOString(), to: new Date(toMs).toISOString(), ...figuresOf(this.total, TOTAL_BUCKETS), ...paging };
    if (!this.options.byStage) return result;
    const processes = processesOf(catalog, processId).map(
      (process): WaterfallProcess => ({
        processId: process.processId,
        stages: stageOrderOf(process).map((key) => ({ stageId: catalog.stages[key]!.stageId, name: catalog.stages[key]!.name, ...figuresOf(this.stages.get(key)?.[1] ?? new Lines(), STAGE_BUCKETS) })),
      }),
    );
    return { ...result, processes };
  }

  /** Puts the page's changes, as items, on the lines they belong to; the key of the change after them. */
  private listPage(): { next: WaterfallChangeKey | undefined } {
    const { entries, next } = this.listed.result();
    for (const { key, segment, count, units, lines } of entries) {
      const item: WaterfallChangeOpportunity = { id: key.id, title: this.segments.title(segment), at: new Date(key.atMs).toISOString(), count, amount: units === undefined ? null : valueOfUnits(units), currency: key.currency };
      for (const line of lines) line.listed.push(item);
    }
    return { next };
  }

  private linesOf(stageKey: number): Lines[] {
    if (!this.options.byStage) return this.totalOnly;
    let lines = this.stages.get(stageKey);
    if (!lines) this.stages.set(stageKey, (lines = [this.total, new Lines()]));
    return lines;
  }

  /** `amount` (NaN: none) is added negated when the deal is `leaving`; `count` is −1, 0 or +1 (a memo: 1, one more change). */
  private record(bucket: ChangeBucket, stageKey: number, segment: number, atMs: number, count: number, amount: number, leaving: boolean, total = true): void {
    const units = Number.isNaN(amount) ? undefined : unitsOf(amount);
    this.recordUnits(bucket, stageKey, segment, atMs, count, this.segments.currency(segment), units === undefined ? undefined : leaving ? negate(units) : units, total);
  }

  private recordUnits(bucket: ChangeBucket, stageKey: number, segment: number, atMs: number, count: number, currency: string | null, units: number | bigint | undefined, total = true): void {
    const key = currency ?? NO_CURRENCY;
    const targets = this.linesOf(stageKey);
    const lines = (total ? targets : targets.slice(1)).map((of) => of.line(bucket));
    for (const line of lines) line.add(count, key, units);
    if (this.options.includeOpportunities) {
      this.listed.add({ key: { atMs, id: this.segments.id(segment), bucket, currency }, segment, count, units, lines });
    }
  }
}
