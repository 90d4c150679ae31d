import type { WaterfallResult } from '@stagecraft/contracts';
import { NONE } from './opportunity-table';
import type { PipelineFilter } from './pipeline.projection';
import type { StageIntervalsModel } from './stage-intervals.projection';
import { WaterfallTally, type SegmentWalker, type WaterfallOptions, type WaterfallSegments } from './waterfall.figures';

// The pipeline waterfall from the stage-intervals read model (rules: waterfall.figures.ts). One
// pass over the segments: those standing at `from` and at `to` give the two ends; each segment
// that starts or ends inside (from, to] is one change, classified by the segment of the same deal
// just before or after it (links kept below, so no sort by deal per question).

export interface WaterfallQuery extends WindowQuery, WaterfallOptions {}

/** Each segment's neighbours within its deal, and each deal's first segment; grown as segments are added. */
interface SegmentLinks {
  indexed: number;
  previous: Int32Array;
  next: Int32Array;
  first: Int32Array;
  last: Int32Array;
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

/** A deal's segments are appended in its own time order, so links only grow: a query extends them to the segments added since. */
function linksOf(model: StageIntervalsModel): SegmentLinks {
  let links = linksByModel.get(model);
  if (!links) {
    const none = () => new Int32Array(0);
    linksByModel.set(model, (links = { indexed: 0, previous: none(), next: none(), first: none(), last: none(), winsIndexed: 0, lastWin: none(), previousWin: none() }));
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
  links.previous = grown(links.previous, count);
  links.next = grown(links.next, count);
  links.first = grown(links.first, model.ids.length);
  links.last = grown(links.last, model.ids.length);
  const rowOf = model.segments.row.values;
  for (let segment = links.indexed; segment < count; segment++) {
    const row = rowOf[segment]!;
    const before = links.last[row]!;
    links.previous[segment] = before;
    links.next[segment] = NONE;
    if (before === NONE) links.first[row] = segment;
    else links.next[before] = segment;
    links.last[row] = segment;
  }
  links.indexed = count;
  return links;
}

export function queryWaterfall(model: StageIntervalsModel, query: WaterfallQuery): WaterfallResult {
  let tally: WaterfallTally | undefined;
  walkStageIntervals(model, query, (reader) => (tally = new WaterfallTally(reader, query)));
  return tally!.result(model.catalog, query.processId, query.fromMs, query.toMs);
}

/** The window and filter of a walk: business time, ms since the epoch, fromMs ≤ toMs. */
export interface WindowQuery extends PipelineFilter {
  readonly fromMs: number;
  readonly toMs: number;
}

/** Tells `walker` (made for this model's segments) about every segment of the window: see SegmentWalker. */
export function walkStageIntervals(model: StageIntervalsModel, query: WindowQuery, walkerFor: (reader: WaterfallSegments) => SegmentWalker): void {
  const { fromMs, toMs } = query;
  if (!(fromMs <= toMs)) throw new RangeError(`The window's from (${fromMs}) must not be after its to (${toMs}).`);
  const { segments } = model;
  const startMs = segments.startMs.values;
  const endMs = segments.endMs.values;
  const rowOf = segments.row.values;
  const team = segments.team.values;
  const owner = segments.owner.values;
  const links = linksOf(model);
  const reader: WaterfallSegments = {
    stageKey: (s) => segments.stageKey.values[s]!,
    amount: (s) => segments.amount.values[s]!,
    currency: (s) => {
      const code = segments.currency.values[s]!;
      return code < 0 ? null : model.currencies.values[code]!;
    },
    probability: (s) => segments.probability.values[s]!,
    expectedDay: (s) => segments.expectedDay.values[s]!,
    id: (s) => model.ids[rowOf[s]!]!,
    title: (s) => model.titles[segments.title.values[s]!]!,
    processId: (s) => model.table.processes.values[model.table.process.values[rowOf[s]!]!]!,
    teamId: (s) => (team[s]! < 0 ? null : model.teams.values[team[s]!]!),
    ownerId: (s) => (owner[s]! < 0 ? null : model.owners.values[owner[s]!]!),
    openedMs: (s) => startMs[links.first[rowOf[s]!]!]!,
  };
  const walker = walkerFor(reader);

  const processCode = query.processId === undefined ? NONE : model.table.processes.codeOf.get(query.processId);
  const teamCode = query.teamId === undefined ? NONE : model.teams.codeOf.get(query.teamId);
  const ownerCode = query.ownerId === undefined ? NONE : model.owners.codeOf.get(query.ownerId);
  // A process nobody opened a deal in has no segment; a team or owner nobody had counts nothing.
  if (processCode === undefined) return;
  const nobody = teamCode === undefined || ownerCode === undefined;
  const counts = (s: number) => !nobody && (teamCode === NONE || team[s] === teamCode) && (ownerCode === NONE || owner[s] === ownerCode);
  const positive = (s: number) => startMs[s]! < endMs[s]!;
  // The deal's segment just before (after) one, skipping those no instant selects (zero length).
  const before = (s: number) => {
    let p = links.previous[s]!;
    while (p !== NONE && !positive(p)) p = links.previous[p]!;
    return p;
  };
  const after = (s: number) => {
    let n = links.next[s]!;
    while (n !== NONE && !positive(n)) n = links.next[n]!;
    return n;
  };
  const process = model.table.process.values;
  const winStart = model.wins.startMs.values;
  const winEnd = model.wins.endMs.values;
  // Whether the deal's win at `atMs` stood at that instant (not reopened at the same instant); a deal's wins come in time order.
  const wonAt = (row: number, atMs: number) => {
    for (let win = links.lastWin[row]!; win !== NONE && winStart[win]! >= atMs; win = links.previousWin[win]!) if (winStart[win] === atMs && winEnd[win]! > atMs) return true;
    return false;
  };

  const count = segments.row.length;
  for (let s = 0; s < count; s++) {
    const start = startMs[s]!;
    const end = endMs[s]!;
    if (!(start < end) || start > toMs || end <= fromMs) continue;
    const row = rowOf[s]!;
    if (processCode !== NONE && process[row] !== processCode) continue;
    const counted = counts(s);
    if (counted) walker.overlapping(s);
    if (counted && start <= fromMs) walker.standing('start', s);
    if (counted && toMs < end) walker.standing('end', s);
    if (fromMs < start) {
      const p = before(s);
      if (p !== NONE && endMs[p] === start) {
        const wasCounted = counts(p);
        if (wasCounted && counted) walker.changed(p, s, start);
        else if (counted) walker.entered(s, start, 'movedIn');
        else if (wasCounted) walker.left(p, start, 'movedOut');
      } else if (counted) {
        walker.entered(s, start, start === startMs[links.first[row]!] ? 'created' : 'reopened');
      }
    }
    if (counted && end <= toMs) {
      const n = after(s);
      if (n === NONE || startMs[n] !== end) walker.left(s, end, wonAt(row, end) ? 'won' : 'lost');
    }
  }
}
