import { NONE } from './opportunity-table';
import type { StageIntervalsModel } from './stage-intervals.projection';
import { unitsOf } from './exact-amounts';

// What the waterfall's walk needs of each segment beyond the read model's columns, derived from
// them and kept beside the model (not in it: nothing is added to a rebuild or a snapshot). A
// deal's segments are appended in its own time order, and a segment's predecessors are all ended
// when it is appended, so everything here is final once computed: a query extends it to the
// segments added since the last one, never recomputes it.

/** `entry` of a segment that opened its deal (no segment of the deal ends where it starts). */
export const ENTERED_CREATED = -2;
/** `entry` of a segment that reopened its deal (it was closed just before). */
export const ENTERED_REOPENED = -3;

export interface SegmentLinks {
  indexed: number;
  /** The deal's next segment (any length); NONE for its latest. */
  next: Int32Array;
  /** Each deal's first and latest segment, by row. */
  first: Int32Array;
  last: Int32Array;
  /**
   * How the deal came to be in the segment, for a segment that some instant selects (positive
   * length): the index of the positive segment it continues (which ends where it starts), or
   * ENTERED_CREATED / ENTERED_REOPENED. Zero-length segments between are skipped: no instant sees them.
   */
  entry: Int32Array;
  /** By row: the latest positive-length segment before the deal's latest one (NONE: none), what the next one's `entry` is found from. */
  positiveBeforeLast: Int32Array;
  /** The amount in whole minor units (unitsOf); NaN: no amount. */
  units: Float64Array;
  /** Whether some segment's amount has more minor units than a double holds exactly (a bigint from unitsOf). */
  bigAmounts: boolean;
  /** The same for wins: each deal's latest win, and the win before each. */
  winsIndexed: number;
  lastWin: Int32Array;
  previousWin: Int32Array;
}

const linksByModel = new WeakMap<StageIntervalsModel, SegmentLinks>();

function grown(array: Int32Array, size: number): Int32Array {
  if (array.length >= size) return array;
  const bigger = new Int32Array(Math.max(size, array.length * 2)).fill(NONE);
  bigger.set(array);
  return bigger;
}

function grownFloat(array: Float64Array, size: number): Float64Array {
  if (array.length >= size) return array;
  const bigger = new Float64Array(Math.max(size, array.length * 2));
  bigger.set(array);
  return bigger;
}

/** The links of the model's segments and wins, extended to those added since the last call. */
export function linksOf(model: StageIntervalsModel): SegmentLinks {
  let links = linksByModel.get(model);
  if (!links) {
    const none = () => new Int32Array(0);
    links = { indexed: 0, next: none(), first: none(), last: none(), entry: none(), positiveBeforeLast: none(), units: new Float64Array(0), bigAmounts: false, winsIndexed: 0, lastWin: none(), previousWin: none() };
    linksByModel.set(model, links);
  }
  const winCount = model.wins.row.length;
  if (links.winsIndexed !== winCount) {
    links.lastWin = grown(links.lastWin, model.ids.length);
    links.previousWin = grown(links.previousWin, winCount);
    for (let win = links.winsIndexed; win < winCount; win++) {
      const row = model.wins.row.values[win]!;
      links.previousWin[win] = links.lastWin[row]!;
      links.lastWin[row] = win;
    }
    links.winsIndexed = winCount;
  }
  const count = model.segments.row.length;
  if (links.indexed === count) return links;
  links.next = grown(links.next, count);
  links.entry = grown(links.entry, count);
  links.units = grownFloat(links.units, count);
  links.first = grown(links.first, model.ids.length);
  links.last = grown(links.last, model.ids.length);
  links.positiveBeforeLast = grown(links.positiveBeforeLast, model.ids.length);
  const { segments } = model;
  const rowOf = segments.row.values;
  const startMs = segments.startMs.values;
  const endMs = segments.endMs.values;
  const amount = segments.amount.values;
  for (let segment = links.indexed; segment < count; segment++) {
    const row = rowOf[segment]!;
    const before = links.last[row]!;
    links.next[segment] = NONE;
    if (before === NONE) links.first[row] = segment;
    else links.next[before] = segment;
    links.last[row] = segment;
    // `before` ended when this segment began, so its length is final.
    const previous = before === NONE ? NONE : startMs[before]! < endMs[before]! ? before : links.positiveBeforeLast[row]!;
    links.positiveBeforeLast[row] = previous;
    const start = startMs[segment]!;
    links.entry[segment] = previous !== NONE && endMs[previous] === start ? previous : start === startMs[links.first[row]!] ? ENTERED_CREATED : ENTERED_REOPENED;
    const value = amount[segment]!;
    if (Number.isNaN(value)) links.units[segment] = NaN;
    else {
      const units = unitsOf(value);
      if (typeof units === 'bigint') links.bigAmounts = true;
      links.units[segment] = Number(units);
    }
  }
  links.indexed = count;
  return links;
}
