import type { WaterfallBucket, WaterfallChange, WaterfallMemoBucket, WaterfallOpen, WaterfallProcess, WaterfallResult } from '@stagecraft/contracts';
import { NONE } from './opportunity-table';
import { compareIds, processesOf, stageOrderOf } from './process-catalog';
import { dictionary, NO_CURRENCY } from './projection.helpers';
import { NO_DAY, type StageIntervalsModel } from './stage-intervals.projection';
import { valueOfUnits } from './exact-amounts';
import { MEMO_BUCKETS, STAGE_BUCKETS, TOTAL_BUCKETS, type WaterfallOptions } from './waterfall.figures';
import { ENTERED_CREATED, linksOf, type SegmentLinks } from './waterfall.links';
import type { WaterfallQuery } from './waterfall.queries';

// The waterfall's figures (rules: waterfall.figures.ts) in one pass over the stage-intervals
// columns, added up in typed arrays indexed by line (stage × bucket) and currency: the same walk
// and the same additions in the same order as walkStageIntervals + WaterfallTally, without a
// closure, a Map or an object per segment. A year-long window visits nearly every segment of the
// store, so what a segment costs is what the question costs.
//
// Exactness: amounts are whole minor units in doubles, exact while every partial sum is a safe
// integer, which is what ExactSum checks too. When one is not, or an amount alone is too large
// for a double (linksOf's bigAmounts), this answers undefined and the caller takes the general
// walk, whose sums switch to bigints. Listing the deals (include=opportunities) also takes it.

/** Line buckets, each an index: the totals' and the stages' in answer order, then the memos and the two ends. */
const BUCKETS = [...STAGE_BUCKETS, ...MEMO_BUCKETS, 'start', 'end'] as const;
type Bucket = (typeof BUCKETS)[number];
const B = Object.fromEntries(BUCKETS.map((bucket, index) => [bucket, index])) as Record<Bucket, number>;
const BUCKET_COUNT = BUCKETS.length;
const START = B.start;
const END = B.end;
const CREATED = B.created;
const REOPENED = B.reopened;
const MOVED_IN = B.movedIn;
const MOVED_OUT = B.movedOut;
const WON = B.won;
const LOST = B.lost;
const INCREASED = B.amountIncreased;
const DECREASED = B.amountDecreased;
const STAGE_IN = B.stageIn;
const STAGE_OUT = B.stageOut;
const PUSHED_OUT = B.pushedOut;
const PULLED_IN = B.pulledIn;

/** Per line (slot 0: the totals; slot 1 + stage key: that stage, with by=stage) and per currency slot. */
class Sums {
  readonly count: Int32Array;
  readonly steps: Int32Array;
  readonly units: Float64Array;
  /** Whether a line has an amount in a currency (a sum of zero is still shown). */
  readonly touched: Uint8Array;
  readonly weighted: Float64Array;
  /** Some partial sum left the doubles' exact integers: the answer must come from the general walk. */
  inexact = false;

  constructor(
    lines: number,
    readonly currencies: number,
  ) {
    this.count = new Int32Array(lines);
    this.steps = new Int32Array(lines);
    this.units = new Float64Array(lines * currencies);
    this.touched = new Uint8Array(lines * currencies);
    this.weighted = new Float64Array(lines * currencies);
  }

  /** One change (or one standing deal) in a line: `units` NaN is none. */
  add(line: number, count: number, currency: number, units: number): void {
    this.count[line] += count;
    this.steps[line] += 1;
    if (units !== units) return;
    const cell = line * this.currencies + currency;
    const sum = this.units[cell]! + units;
    if (!(sum <= Number.MAX_SAFE_INTEGER && sum >= -Number.MAX_SAFE_INTEGER)) this.inexact = true;
    this.units[cell] = sum;
    this.touched[cell] = 1;
  }
}

/** The waterfall from the model's columns; undefined when only the general walk answers it exactly (see above). */
export function scanWaterfall(model: StageIntervalsModel, query: WaterfallQuery): WaterfallResult | undefined {
  const { fromMs, toMs } = query;
  if (!(fromMs <= toMs)) throw new RangeError(`The window's from (${fromMs}) must not be after its to (${toMs}).`);
  if (query.includeOpportunities === true) return undefined;
  const links = linksOf(model);
  if (links.bigAmounts) return undefined;
  const byStage = query.byStage === true;
  const { currencies } = model;
  // Currency slot 0 is "no currency"; a currency named like that key is summed with it, as under the Map's key.
  const slotOf = new Int32Array(currencies.values.length + 1);
  const slotNames = [NO_CURRENCY];
  for (let code = 0; code < currencies.values.length; code++) {
    const name = currencies.values[code]!;
    slotOf[code + 1] = name === NO_CURRENCY ? 0 : slotNames.push(name) - 1;
  }
  const stageCount = model.catalog.stages.length;
  const sums = new Sums((byStage ? stageCount + 1 : 1) * BUCKET_COUNT, slotNames.length);

  const processCode = query.processId === undefined ? NONE : model.table.processes.codeOf.get(query.processId);
  const teamCode = query.teamId === undefined ? NONE : model.teams.codeOf.get(query.teamId);
  const ownerCode = query.ownerId === undefined ? NONE : model.owners.codeOf.get(query.ownerId);
  // A process nobody opened a deal in has no segment; a team or owner nobody had counts nothing.
  if (processCode !== undefined && teamCode !== undefined && ownerCode !== undefined) {
    new Scan(model, links, sums, slotOf, byStage).run(fromMs, toMs, processCode, teamCode, ownerCode);
  }
  if (sums.inexact) return undefined;
  return resultOf(model, query, sums, slotNames);
}

/** One question's pass: the columns as fields (read into locals by the loop), the changes' additions as methods. */
class Scan {
  private readonly startMs: Float64Array;
  private readonly endMs: Float64Array;
  private readonly rowOf: Int32Array;
  private readonly team: Int32Array;
  private readonly owner: Int32Array;
  private readonly stageKey: Int32Array;
  private readonly currency: Int32Array;
  private readonly probability: Float64Array;
  private readonly expectedDay: Int32Array;
  private readonly amount: Float64Array;
  private readonly process: Int32Array;
  private readonly entry: Int32Array;
  private readonly next: Int32Array;
  private readonly units: Float64Array;
  private readonly lastWin: Int32Array;
  private readonly previousWin: Int32Array;
  private readonly winStart: Float64Array;
  private readonly winEnd: Float64Array;
  private readonly count: number;

  constructor(
    model: StageIntervalsModel,
    links: SegmentLinks,
    private readonly sums: Sums,
    private readonly slotOf: Int32Array,
    private readonly byStage: boolean,
  ) {
    const { segments } = model;
    this.startMs = segments.startMs.values;
    this.endMs = segments.endMs.values;
    this.rowOf = segments.row.values;
    this.team = segments.team.values;
    this.owner = segments.owner.values;
    this.stageKey = segments.stageKey.values;
    this.currency = segments.currency.values;
    this.probability = segments.probability.values;
    this.expectedDay = segments.expectedDay.values;
    this.amount = segments.amount.values;
    this.process = model.table.process.values;
    this.entry = links.entry;
    this.next = links.next;
    this.units = links.units;
    this.lastWin = links.lastWin;
    this.previousWin = links.previousWin;
    this.winStart = model.wins.startMs.values;
    this.winEnd = model.wins.endMs.values;
    this.count = segments.row.length;
  }

  /** Codes NONE: any; the process's, team's and owner's codes otherwise. */
  run(fromMs: number, toMs: number, processCode: number, teamCode: number, ownerCode: number): void {
    // Locals, not property reads, in the loop over every segment of the store (NONE too: an
    // imported binding is a getter call in the compiled module).
    const { startMs, endMs, rowOf, team, owner, stageKey, currency, units, entry, next, process, count } = this;
    const none = NONE;
    const anyProcess = processCode === none;
    const anyTeam = teamCode === none;
    const anyOwner = ownerCode === none;
    for (let s = 0; s < count; s++) {
      const start = startMs[s]!;
      const end = endMs[s]!;
      if (!(start < end) || start > toMs || end <= fromMs) continue;
      const row = rowOf[s]!;
      if (!anyProcess && process[row] !== processCode) continue;
      const counted = (anyTeam || team[s] === teamCode) && (anyOwner || owner[s] === ownerCode);
      if (counted && start <= fromMs) this.stand(START, s);
      if (counted && toMs < end) this.stand(END, s);
      if (fromMs < start) {
        const p = entry[s]!;
        if (p >= 0) {
          const wasCounted = (anyTeam || team[p] === teamCode) && (anyOwner || owner[p] === ownerCode);
          if (wasCounted && counted) this.changed(p, s);
          else if (counted) this.record(MOVED_IN, stageKey[s]!, 1, currency[s]!, units[s]!);
          else if (wasCounted) this.record(MOVED_OUT, stageKey[p]!, -1, currency[p]!, -units[p]!);
        } else if (counted) {
          this.record(p === ENTERED_CREATED ? CREATED : REOPENED, stageKey[s]!, 1, currency[s]!, units[s]!);
        }
      }
      if (counted && end <= toMs) {
        // The deal's next segment that some instant selects: if none starts where this one ends, the deal closed.
        let n = next[s]!;
        while (n !== none && !(startMs[n]! < endMs[n]!)) n = next[n]!;
        if (n === none || startMs[n] !== end) this.record(this.wonAt(row, end) ? WON : LOST, stageKey[s]!, -1, currency[s]!, -units[s]!);
      }
    }
  }

  /** A counted segment standing at `from` (START) or `to` (END). */
  private stand(which: number, s: number): void {
    const value = this.units[s]!;
    const slot = this.slotOf[this.currency[s]! + 1]!;
    const share = (this.amount[s]! * this.probability[s]!) / 100;
    this.stood(which, slot, value, share);
    if (this.byStage) this.stood(stageLine(this.stageKey[s]!, which), slot, value, share);
  }

  private stood(line: number, slot: number, value: number, share: number): void {
    this.sums.add(line, 1, slot, value);
    if (value === value) this.sums.weighted[line * this.sums.currencies + slot] += share;
  }

  /** A change in a bucket of the totals and, by stage, of the stage `key`. */
  private record(bucket: number, key: number, change: number, currency: number, value: number): void {
    const slot = this.slotOf[currency + 1]!;
    this.sums.add(bucket, change, slot, value);
    if (this.byStage) this.sums.add(stageLine(key, bucket), change, slot, value);
  }

  /** The deal counted as `p` until `s` began and counts as `s` from then on. */
  private changed(p: number, s: number): void {
    const { units, currency, stageKey, expectedDay } = this;
    const before = units[p]!;
    const after = units[s]!;
    const key = stageKey[p]!;
    if (currency[p] === currency[s] && before === before && after === after) {
      const difference = after - before;
      if (difference !== 0) this.record(difference > 0 ? INCREASED : DECREASED, key, 0, currency[s]!, difference);
    } else {
      if (before === before) this.record(DECREASED, key, 0, currency[p]!, -before);
      if (after === after) this.record(INCREASED, key, 0, currency[s]!, after);
    }
    const keyAfter = stageKey[s]!;
    if (key !== keyAfter && this.byStage) {
      const slot = this.slotOf[currency[s]! + 1]!;
      this.sums.add(stageLine(key, STAGE_OUT), -1, slot, -after);
      this.sums.add(stageLine(keyAfter, STAGE_IN), 1, slot, after);
    }
    const dayBefore = expectedDay[p]!;
    const dayAfter = expectedDay[s]!;
    if (dayBefore !== NO_DAY && dayAfter !== NO_DAY && dayBefore !== dayAfter) this.record(dayAfter > dayBefore ? PUSHED_OUT : PULLED_IN, keyAfter, 1, currency[s]!, after);
  }

  /** Whether the deal's win at `atMs` stood at that instant (not reopened at the same instant); a deal's wins come in time order. */
  private wonAt(row: number, atMs: number): boolean {
    const { winStart, winEnd, previousWin } = this;
    for (let win = this.lastWin[row]!; win >= 0 && winStart[win]! >= atMs; win = previousWin[win]!) if (winStart[win] === atMs && winEnd[win]! > atMs) return true;
    return false;
  }
}

/** The totals' line of a bucket is the bucket's index; a stage's comes after them. */
const stageLine = (key: number, bucket: number) => (key + 1) * BUCKET_COUNT + bucket;

function resultOf(model: StageIntervalsModel, query: WaterfallQuery & WaterfallOptions, sums: Sums, slotNames: readonly string[]): WaterfallResult {
  // Currency slots in answer order (compareIds of their names).
  const order = slotNames.map((_, slot) => slot).sort((a, b) => compareIds(slotNames[a]!, slotNames[b]!));
  const byCurrency = (values: Float64Array, line: number, ofUnits: boolean) => {
    const result = dictionary<number>();
    for (const slot of order) {
      const cell = line * sums.currencies + slot;
      if (sums.touched[cell]) result[slotNames[slot]!] = ofUnits ? valueOfUnits(values[cell]!) : values[cell]!;
    }
    return result;
  };
  const open = (line: number): WaterfallOpen => ({ count: sums.count[line]!, amountsByCurrency: byCurrency(sums.units, line, true), weightedAmountsByCurrency: byCurrency(sums.weighted, line, false) });
  const change = <Name extends WaterfallBucket | WaterfallMemoBucket>(first: number, bucket: Name): WaterfallChange<Name> => {
    const line = first + B[bucket];
    return { bucket, count: sums.count[line]!, amountsByCurrency: byCurrency(sums.units, line, true), steps: sums.steps[line]! };
  };
  const figuresOf = (first: number, buckets: readonly WaterfallBucket[]) => ({
    start: open(first + START),
    changes: buckets.map((bucket) => change(first, bucket)),
    memos: MEMO_BUCKETS.map((bucket) => change(first, bucket)),
    end: open(first + END),
  });
  const result: WaterfallResult = { from: new Date(query.fromMs).toISOString(), to: new Date(query.toMs).toISOString(), ...figuresOf(0, TOTAL_BUCKETS) };
  if (query.byStage !== true) return result;
  const { catalog } = model;
  const processes = processesOf(catalog, query.processId).map(
    (process): WaterfallProcess => ({
      processId: process.processId,
      stages: stageOrderOf(process).map((key) => ({ stageId: catalog.stages[key]!.stageId, name: catalog.stages[key]!.name, ...figuresOf((key + 1) * BUCKET_COUNT, STAGE_BUCKETS) })),
    }),
  );
  return { ...result, processes };
}
