import type { WinLossGroupBy, WinLossFigures, WinLossGroup, WinLossResult } from '@stagecraft/contracts';
import type { OpportunityOpened, OpportunityWon, OpportunityLost, OpportunityReopened, OpportunityDetailsChanged } from '@stagecraft/opportunity';
import { defineOpportunityProjection } from './opportunity-projection.factory';
import { createOpportunityTable, createStringCodes, encode, matchRows, type OpportunityTable, type StringCodes } from './opportunity-table';
import { ExactSums } from './exact-amounts';
import { compareIds } from './process-catalog';
import { dictionary, float64Column, int32Column, NO_CURRENCY, occurredAtMs, parseFilter, soleCurrencyTotal, pushFloat64, pushInt32, type Float64Column, type Int32Column } from './projection.helpers';
import type { AnalyticsFilter } from './projection.types';

// Win/loss (DESIGN.md §5): among closed opportunities, those whose LATEST outcome is won or lost.
// A reopened opportunity that is open now is not closed; one reopened and closed again counts once,
// by its latest outcome, at the time of that latest closing.
//
// - winRate = won / (won + lost), null when nothing is closed.
// - amountWonByCurrency sums OpportunityWon.amount, or when the event has none the opportunity's
//   amount at the time it was won (nothing when it had none), per the currency it had when won.
//   amountLostByCurrency sums the amount each lost deal had when lost (details cannot change while
//   closed, so its current amount), per its currency. amountWon / amountLost are those sums only
//   when they hold one currency, null otherwise: currencies are never added together.
// - wonReasons counts the won ones per won reason (wins without one are not listed), keys sorted.
// - Team, owner and process grouping and filters use the opportunity's CURRENT team and owner
//   (details change only while open, so for a closed opportunity current = at closing).
// - from/to bound the occurredAt of the latest closing; month = YYYY-MM of it in UTC.
// - groupBy 'reason' groups lost opportunities only (each group has won = 0); the total still
//   counts both outcomes.
// - Missing team/owner group under key null; groups are sorted by key, null last.
//
// Query cost: one loop over the columns of all opportunities, tallying into typed arrays indexed
// by group code; nothing is aggregated in evolve (amounts would drift, filters multiply).

const OPEN = 0;
const WON = 1;
const LOST = 2;
/** wonCurrency of a win that has no amount. */
const NO_AMOUNT = -2;

/** Bumped whenever WinLossModel's columns change: a snapshot of another layout is rebuilt, not read. */
export const WIN_LOSS_MODEL_LAYOUT = 2;

export interface WinLossModel {
  readonly layout: number;
  readonly table: OpportunityTable;
  readonly currencies: StringCodes;
  readonly reasons: StringCodes;
  // Columns by opportunity row:
  /** OPEN, WON or LOST: the latest outcome. */
  readonly outcome: Int32Column;
  /** occurredAt of the latest closing, in ms. */
  readonly closedMs: Float64Column;
  /** year × 12 + month (0-based), UTC, of the latest closing. */
  readonly closedMonth: Int32Column;
  /** Amount of the latest win; 0 when it had none. */
  readonly wonAmount: Float64Column;
  /** Currency code at the latest win; NONE without currency, NO_AMOUNT without amount. */
  readonly wonCurrency: Int32Column;
  readonly lostReason: Int32Column;
  /** Won reason code of the latest win; NONE without one or when the latest outcome is not a win. */
  readonly wonReason: Int32Column;
  readonly wonReasons: StringCodes;
  /** Current amount (NaN when none) and currency. */
  readonly amount: Float64Column;
  readonly currency: Int32Column;
}

type WinLossEvent = OpportunityOpened | OpportunityWon | OpportunityLost | OpportunityReopened | OpportunityDetailsChanged;

export const winLossProjection = defineOpportunityProjection<WinLossModel, WinLossEvent>({
  name: 'win-loss',
  handles: ['OpportunityOpened', 'OpportunityWon', 'OpportunityLost', 'OpportunityReopened', 'OpportunityDetailsChanged'],
  initial: () => ({
    layout: WIN_LOSS_MODEL_LAYOUT,
    table: createOpportunityTable(),
    currencies: createStringCodes(),
    reasons: createStringCodes(),
    outcome: int32Column(),
    closedMs: float64Column(),
    closedMonth: int32Column(),
    wonAmount: float64Column(),
    wonCurrency: int32Column(),
    lostReason: int32Column(),
    wonReason: int32Column(),
    wonReasons: createStringCodes(),
    amount: float64Column(),
    currency: int32Column(),
  }),
  // A model saved before won reasons were kept cannot be completed from itself: rebuild it.
  accepts: (saved) => (saved as Partial<WinLossModel> | null)?.layout === WIN_LOSS_MODEL_LAYOUT,
  opened(model, _row, { data }) {
    pushInt32(model.outcome, OPEN);
    pushFloat64(model.closedMs, NaN);
    pushInt32(model.closedMonth, 0);
    pushFloat64(model.wonAmount, 0);
    pushInt32(model.wonCurrency, NO_AMOUNT);
    pushInt32(model.lostReason, -1);
    pushInt32(model.wonReason, -1);
    pushFloat64(model.amount, data.amount ?? NaN);
    pushInt32(model.currency, encode(model.currencies, data.currency));
  },
  changed(model, row, event) {
    switch (event.type) {
      case 'OpportunityWon': {
        close(model, row, WON, occurredAtMs(event));
        // Won without an amount (none on the event, none on the opportunity): adds 0 and no currency.
        const amount = event.data.amount ?? model.amount.values[row]!;
        const known = !Number.isNaN(amount);
        model.wonAmount.values[row] = known ? amount : 0;
        model.wonCurrency.values[row] = known ? model.currency.values[row]! : NO_AMOUNT;
        model.wonReason.values[row] = encode(model.wonReasons, event.data.reason);
        break;
      }
      case 'OpportunityLost':
        close(model, row, LOST, occurredAtMs(event));
        model.lostReason.values[row] = encode(model.reasons, event.data.reason);
        model.wonReason.values[row] = -1;
        break;
      case 'OpportunityReopened':
        model.outcome.values[row] = OPEN;
        break;
      case 'OpportunityDetailsChanged': {
        const { amount, currency } = event.data;
        if (amount !== undefined) model.amount.values[row] = amount;
        if (currency !== undefined) model.currency.values[row] = encode(model.currencies, currency);
        break;
      }
    }
  },
});

function close(model: WinLossModel, row: number, outcome: typeof WON | typeof LOST, ms: number): void {
  model.outcome.values[row] = outcome;
  model.closedMs.values[row] = ms;
  // Only closings pay for a Date: a month number, formatted when a query groups by it.
  const date = new Date(ms);
  model.closedMonth.values[row] = date.getUTCFullYear() * 12 + date.getUTCMonth();
}

// Row-sized work buffers are kept per model between queries (outside the model, which is saved):
// allocating and zeroing them on every query at 100,000 opportunities feeds the GC. Queries are
// synchronous, so two never share them at once.
const QUERY_BUFFERS = new WeakMap<WinLossModel, { allRows: Uint8Array; kept: Int32Array; keptLost: Int32Array }>();

function queryBuffersOf(model: WinLossModel, rows: number) {
  let buffers = QUERY_BUFFERS.get(model);
  if (!buffers || buffers.kept.length < rows) {
    const size = Math.max(rows, (buffers?.kept.length ?? 0) * 2);
    buffers = { allRows: new Uint8Array(size).fill(1), kept: new Int32Array(size), keptLost: new Int32Array(size) };
    QUERY_BUFFERS.set(model, buffers);
  }
  return buffers;
}

export function queryWinLoss(model: WinLossModel, filter: AnalyticsFilter = {}, groupBy?: WinLossGroupBy): WinLossResult {
  const parsed = parseFilter(filter);
  const selected = matchRows(model.table, parsed);
  const rows = model.table.rows;
  const outcome = model.outcome.values;
  const closedMs = model.closedMs.values;
  const { fromMs, toMs } = parsed;
  // The closed opportunities that count, won ones first, gathered branch-free (every row is
  // written, and a cursor moves on only for a kept one): outcomes and matches are data-dependent,
  // so branches would mispredict.
  const buffers = queryBuffersOf(model, rows);
  const rowSelected = selected ?? buffers.allRows;
  const { kept, keptLost } = buffers;
  let wonCount = 0;
  let lostCount = 0;
  for (let row = 0; row < rows; row++) {
    const at = closedMs[row]!;
    const state = outcome[row]!;
    const keep = rowSelected[row]! & +(at >= fromMs) & +(at <= toMs);
    kept[wonCount] = row;
    keptLost[lostCount] = row;
    wonCount += keep & +(state === WON);
    lostCount += keep & +(state === LOST);
  }
  kept.set(keptLost.subarray(0, lostCount), wonCount);
  const keptCount = wonCount + lostCount;

  const grouping = groupingOf(model, groupBy, kept, keptCount);
  // Slots: the groups, then the total (slot `groups`), then a discard slot for rows that belong to
  // no group. Per slot, `stride` currency cells (cell 0: no currency; the last: won without an
  // amount, discarded) and `reasonCount` reason cells (cell 0: no reason).
  const total = grouping.groups;
  const slots = total + 2;
  const currencyCount = model.currencies.values.length;
  const stride = currencyCount + 2;
  const reasonCount = model.reasons.values.length + 1;
  const won = new Int32Array(slots);
  const lost = new Int32Array(slots);
  const byCurrency = new ExactSums(slots * stride);
  const hasCurrency = new Uint8Array(slots * stride);
  const byReason = new Int32Array(slots * reasonCount);
  const lostByCurrency = new ExactSums(slots * stride);
  const hasLostCurrency = new Uint8Array(slots * stride);
  const wonReasonCount = model.wonReasons.values.length + 1;
  const byWonReason = new Int32Array(slots * wonReasonCount);
  const wonReason = model.wonReason.values;
  const amountNow = model.amount.values;
  const currencyNow = model.currency.values;
  // Currency code of a win (NO_AMOUNT, NONE or a code) + 2 → its cell; the discard cell for no amount.
  const currencyCell = Int32Array.from({ length: currencyCount + 2 }, (_, i) => (i === 0 ? stride - 1 : i - 1));
  const wonAmount = model.wonAmount.values;
  const wonCurrency = model.wonCurrency.values;
  const lostReason = model.lostReason.values;
  const groupSlot = grouping.slots;
  for (let k = 0; k < wonCount; k++) {
    const row = kept[k]!;
    const amount = wonAmount[row]!;
    const cell = currencyCell[wonCurrency[row]! + 2]!;
    const why = wonReason[row]! + 1;
    won[total]!++;
    byCurrency.add(total * stride + cell, amount);
    hasCurrency[total * stride + cell] = 1;
    byWonReason[total * wonReasonCount + why]!++;
    if (!groupSlot) continue;
    const slot = groupSlot[k]!;
    won[slot]!++;
    byCurrency.add(slot * stride + cell, amount);
    hasCurrency[slot * stride + cell] = 1;
    byWonReason[slot * wonReasonCount + why]!++;
  }
  for (let k = wonCount; k < keptCount; k++) {
    const row = kept[k]!;
    const reason = lostReason[row]! + 1;
    // Lost without an amount: counted, adds nothing (and no currency key). Cell 0: no currency.
    const amount = amountNow[row]!;
    const known = !Number.isNaN(amount);
    const cell = currencyNow[row]! + 1;
    lost[total]!++;
    byReason[total * reasonCount + reason]!++;
    if (known) {
      lostByCurrency.add(total * stride + cell, amount);
      hasLostCurrency[total * stride + cell] = 1;
    }
    if (!groupSlot) continue;
    const slot = groupSlot[k]!;
    lost[slot]!++;
    byReason[slot * reasonCount + reason]!++;
    if (known) {
      lostByCurrency.add(slot * stride + cell, amount);
      hasLostCurrency[slot * stride + cell] = 1;
    }
  }

  const figures = (slot: number): WinLossFigures => {
    const perCurrency = (sums: ExactSums, has: Uint8Array) => {
      const result = dictionary<number>();
      for (let c = 0; c <= currencyCount; c++) {
        if (has[slot * stride + c] === 1) result[c === 0 ? NO_CURRENCY : model.currencies.values[c - 1]!] = sums.value(slot * stride + c);
      }
      return result;
    };
    const amountWonByCurrency = perCurrency(byCurrency, hasCurrency);
    const amountLostByCurrency = perCurrency(lostByCurrency, hasLostCurrency);
    const wonReasons = dictionary<number>();
    const reasonOrder = model.wonReasons.values.map((reason, code) => [reason, code + 1] as const).sort(([a], [b]) => compareIds(a, b));
    for (const [reason, r] of reasonOrder) {
      const count = byWonReason[slot * wonReasonCount + r]!;
      if (count > 0) wonReasons[reason] = count;
    }
    const lostReasons = dictionary<number>();
    for (let r = 0; r < reasonCount; r++) {
      const count = byReason[slot * reasonCount + r]!;
      if (count > 0) lostReasons[r === 0 ? '' : model.reasons.values[r - 1]!] = count;
    }
    return winLossFiguresOf(won[slot]!, lost[slot]!, amountWonByCurrency, amountLostByCurrency, lostReasons, wonReasons);
  };

  const totals = figures(total);
  if (groupBy === undefined) return { total: totals };
  const groups: WinLossGroup[] = [];
  for (let slot = 0; slot < grouping.groups; slot++) {
    if (won[slot]! + lost[slot]! > 0) groups.push({ key: grouping.keyOf(slot), ...figures(slot) });
  }
  groups.sort((a, b) => (a.key === null || b.key === null ? (a.key === b.key ? 0 : a.key === null ? 1 : -1) : compareIds(a.key, b.key)));
  return { total: totals, groups };
}

interface Grouping {
  readonly groups: number;
  /** Group slot of each kept row (by position in `kept`); `groups + 1` for no group. */
  readonly slots: Int32Array | undefined;
  keyOf(slot: number): string | null;
}

function groupingOf(model: WinLossModel, groupBy: WinLossGroupBy | undefined, kept: Int32Array, keptCount: number): Grouping {
  const { table } = model;
  const slots = new Int32Array(keptCount);
  // Codes are dense from 0 and NONE is -1, so code + 1 is a slot and slot 0 is "none" (null).
  const byCode = (column: Int32Array, codes: StringCodes, onlyLost = false): Grouping => {
    const groups = codes.values.length + 1;
    for (let k = 0; k < keptCount; k++) {
      const row = kept[k]!;
      slots[k] = onlyLost && model.outcome.values[row] !== LOST ? groups + 1 : column[row]! + 1;
    }
    return { groups, slots, keyOf: (slot) => (slot === 0 ? null : codes.values[slot - 1]!) };
  };
  switch (groupBy) {
    case undefined:
      return { groups: 0, slots: undefined, keyOf: () => null };
    case 'team':
      return byCode(table.team.values, table.teams);
    case 'owner':
      return byCode(table.owner.values, table.owners);
    case 'process':
      return byCode(table.process.values, table.processes);
    case 'reason':
      return byCode(model.lostReason.values, model.reasons, true);
    case 'month': {
      // Slots span the months of the kept closings, earliest first.
      const month = model.closedMonth.values;
      let first = Infinity;
      let last = -Infinity;
      for (let k = 0; k < keptCount; k++) {
        const value = month[kept[k]!]!;
        if (value < first) first = value;
        if (value > last) last = value;
      }
      for (let k = 0; k < keptCount; k++) slots[k] = month[kept[k]!]! - first;
      return { groups: last < first ? 0 : last - first + 1, slots, keyOf: (slot) => monthKey(first + slot) };
    }
    default: {
      const exhaustive: never = groupBy;
      throw new Error(`Unknown groupBy ${String(exhaustive)}`);
    }
  }
}

function monthKey(month: number): string {
  const year = Math.floor(month / 12);
  return `${String(year).padStart(4, '0')}-${String((month % 12) + 1).padStart(2, '0')}`;
}

/** One group's win/loss figures from its counts and sums: the one shape both read sides answer (a sole-currency total, never a mixed one). */
export function winLossFiguresOf(
  won: number,
  lost: number,
  amountWonByCurrency: Readonly<Record<string, number>>,
  amountLostByCurrency: Readonly<Record<string, number>>,
  lostReasons: Readonly<Record<string, number>>,
  wonReasons: Readonly<Record<string, number>>,
): WinLossFigures {
  const closed = won + lost;
  return {
    won,
    lost,
    winRate: closed === 0 ? null : won / closed,
    amountWon: soleCurrencyTotal(amountWonByCurrency),
    amountWonByCurrency,
    amountLost: soleCurrencyTotal(amountLostByCurrency),
    amountLostByCurrency,
    lostReasons,
    wonReasons,
  };
}
