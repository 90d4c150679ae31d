import type { WaterfallResult } from '@stagecraft/contracts';
import { NONE } from './opportunity-table';
import type { PipelineFilter } from './pipeline.projection';
import type { StageIntervalsModel } from './stage-intervals.projection';
import { WaterfallTally, type SegmentWalker, type WaterfallOptions, type WaterfallSegments } from './waterfall.figures';
import { ENTERED_CREATED, linksOf } from './waterfall.links';
import { scanWaterfall } from './waterfall.scan';

// The pipeline waterfall from the stage-intervals read model (rules: waterfall.figures.ts). One
// pass over the segments: those standing at `from` and at `to` give the two ends; each segment
// that starts or ends inside (from, to] is one change, classified by the segment of the same deal
// just before or after it (links kept beside the model, waterfall.links.ts, so no sort by deal
// per question).

export interface WaterfallQuery extends WindowQuery, WaterfallOptions {}

export function queryWaterfall(model: StageIntervalsModel, query: WaterfallQuery): WaterfallResult {
  // The common question in one tight pass (waterfall.scan.ts); listing the deals, or sums past a
  // double's exact integers, through the general walk below.
  const scanned = scanWaterfall(model, query);
  if (scanned) return scanned;
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
  // The deal's segment just after one, skipping those no instant selects (zero length).
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
      const p = links.entry[s]!;
      if (p >= 0) {
        const wasCounted = counts(p);
        if (wasCounted && counted) walker.changed(p, s, start);
        else if (counted) walker.entered(s, start, 'movedIn');
        else if (wasCounted) walker.left(p, start, 'movedOut');
      } else if (counted) {
        walker.entered(s, start, p === ENTERED_CREATED ? 'created' : 'reopened');
      }
    }
    if (counted && end <= toMs) {
      const n = after(s);
      if (n === NONE || startMs[n] !== end) walker.left(s, end, wonAt(row, end) ? 'won' : 'lost');
    }
  }
}
