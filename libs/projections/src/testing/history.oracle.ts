import type { ProcessDefinition } from '@stagecraft/sales-process';
import type { AnalyticsFilter, ProjectedEvent } from '../projection.types';

// Plain, slow, obviously-correct readings of a raw event log, for the brute-force oracles of the
// read-model specs. Nothing here uses the projection code.

export interface OracleOpportunity {
  readonly id: string;
  /** This opportunity's events, in log order. */
  readonly events: readonly ProjectedEvent[];
  readonly processId: string;
  /** The version it runs on after the last event: the one it opened with, or the last it was migrated to. */
  readonly version: string;
  readonly openedAt: string;
  /** Details after the last event: reports group by the current team and owner. */
  readonly teamId: string | undefined;
  readonly ownerId: string | undefined;
  readonly amount: number | undefined;
  readonly currency: string | undefined;
  readonly title: string;
}

export interface OracleLog {
  readonly versions: readonly { processId: string; version: string; definition: ProcessDefinition }[];
  readonly opportunities: readonly OracleOpportunity[];
}

/** Reads a log that holds only process versions and opportunity events (no noise). */
export function readLog(events: readonly ProjectedEvent[]): OracleLog {
  const versions: OracleLog['versions'][number][] = [];
  const byId = new Map<string, ProjectedEvent[]>();
  for (const event of events) {
    if (event.type === 'ProcessVersionRecorded') {
      const data = event.data as { processId: string; version: string; definition: ProcessDefinition };
      versions.push({ processId: data.processId, version: data.version, definition: data.definition });
    } else if (event.stream.startsWith('opportunity-')) {
      const id = event.data.opportunityId as string;
      if (!byId.has(id)) byId.set(id, []);
      byId.get(id)!.push(event);
    }
  }
  const opportunities = [...byId].map(([id, list]): OracleOpportunity => {
    const opened = list[0]!.data as Record<string, unknown>;
    const details: Record<string, unknown> = { ...opened };
    let version = opened.processVersion as string;
    for (const event of list) {
      if (event.type === 'OpportunityDetailsChanged') Object.assign(details, event.data);
      if (event.type === 'ProcessMigrated') version = event.data.toVersion as string;
    }
    return {
      id,
      events: list,
      processId: opened.processId as string,
      version,
      openedAt: opened.occurredAt as string,
      teamId: details.teamId as string | undefined,
      ownerId: details.ownerId as string | undefined,
      amount: details.amount as number | undefined,
      currency: details.currency as string | undefined,
      title: details.title as string,
    };
  });
  return { versions, opportunities };
}

export function definitionOf(log: OracleLog, processId: string, version: string): ProcessDefinition {
  return log.versions.find((v) => v.processId === processId && v.version === version)!.definition;
}

export function latestDefinition(log: OracleLog, processId: string): ProcessDefinition {
  return log.versions.filter((v) => v.processId === processId).at(-1)!.definition;
}

/** Processes that have a recorded version, sorted by id; or just the one asked for. */
export function processIds(log: OracleLog, only?: string): string[] {
  const ids = [...new Set(log.versions.map((v) => v.processId))].sort();
  return only === undefined ? ids : ids.filter((id) => id === only);
}

/** The latest version's stages, then every other stage any version had, in log order. */
export function stageOrder(log: OracleLog, processId: string): string[] {
  const order = latestDefinition(log, processId).stages.map((s) => s.id);
  for (const v of log.versions) {
    if (v.processId !== processId) continue;
    for (const stage of v.definition.stages) if (!order.includes(stage.id)) order.push(stage.id);
  }
  return order;
}

export function matchesOpportunity(opportunity: OracleOpportunity, filter: AnalyticsFilter): boolean {
  if (filter.processId !== undefined && opportunity.processId !== filter.processId) return false;
  if (filter.teamId !== undefined && opportunity.teamId !== filter.teamId) return false;
  if (filter.ownerId !== undefined && opportunity.ownerId !== filter.ownerId) return false;
  return true;
}

export function withinFromTo(at: string, filter: AnalyticsFilter): boolean {
  const ms = Date.parse(at);
  if (filter.from !== undefined && ms < Date.parse(filter.from)) return false;
  if (filter.to !== undefined && ms > Date.parse(filter.to)) return false;
  return true;
}

/**
 * Deep equality where numbers may differ by float rounding (sums taken in another order).
 * Throws with the path of the first difference.
 */
export function expectApproxEqual(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof actual === 'number' && typeof expected === 'number') {
    const tolerance = 1e-9 * Math.max(1, Math.abs(actual), Math.abs(expected));
    if (Math.abs(actual - expected) <= tolerance) return;
    throw new Error(`${path}: ${actual} ≠ expected ${expected}`);
  }
  if (Array.isArray(actual) && Array.isArray(expected)) {
    if (actual.length !== expected.length) throw new Error(`${path}: length ${actual.length} ≠ expected ${expected.length}\n${JSON.stringify({ actual, expected })}`);
    actual.forEach((item, i) => expectApproxEqual(item, expected[i], `${path}[${i}]`));
    return;
  }
  if (actual && expected && typeof actual === 'object' && typeof expected === 'object' && !Array.isArray(actual) && !Array.isArray(expected)) {
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => o[k] !== undefined).sort();
    if (JSON.stringify(keys(a)) !== JSON.stringify(keys(e))) throw new Error(`${path}: keys ${keys(a)} ≠ expected ${keys(e)}`);
    for (const key of keys(a)) expectApproxEqual(a[key], e[key], `${path}.${key}`);
    return;
  }
  if (actual !== expected) throw new Error(`${path}: ${JSON.stringify(actual)} ≠ expected ${JSON.stringify(expected)}`);
}

interface UncappedBoard {
  readonly processes: readonly { readonly stages: readonly { readonly count: number; readonly opportunities?: readonly unknown[] }[] }[];
}

/**
 * What `cardsPerColumn: cap` must answer, from the uncapped answer: each column lists the first
 * `cap` of its cards, says how many of its count it left out, and keeps every other figure.
 */
export function capColumns<Board extends UncappedBoard>(board: Board, cap: number): Board {
  return {
    ...board,
    processes: board.processes.map((process) => ({
      ...process,
      stages: process.stages.map((stage) => {
        const listed = (stage.opportunities ?? []).slice(0, cap);
        return { ...stage, opportunities: listed, opportunitiesOmitted: stage.count - listed.length };
      }),
    })),
  };
}

/**
 * The oracle's reading of "currencies are never added together" (issue 15): the total of a
 * per-currency map only when it holds one currency (0 when empty), null otherwise.
 */
export function oneCurrencyTotal(byCurrency: Readonly<Record<string, number>>): number | null {
  const currencies = Object.keys(byCurrency);
  if (currencies.length > 1) return null;
  return currencies.length === 0 ? 0 : byCurrency[currencies[0]!]!;
}

/**
 * A column's money, brute force: each deal's amount added per currency (none: 'unspecified'), and
 * weighted by the probability of the stage in the version it runs on; the totals only when one
 * currency is involved. Both board oracles (live and as of an instant) add their deals so.
 */
export function columnMoneyOracle(deals: readonly { readonly amount?: number; readonly currency?: string; readonly probability: () => number }[]) {
  const amountsByCurrency: Record<string, number> = {};
  const weightedAmountsByCurrency: Record<string, number> = {};
  for (const deal of deals) {
    if (deal.amount === undefined) continue;
    const currency = deal.currency ?? 'unspecified';
    amountsByCurrency[currency] = (amountsByCurrency[currency] ?? 0) + deal.amount;
    weightedAmountsByCurrency[currency] = (weightedAmountsByCurrency[currency] ?? 0) + (deal.amount * deal.probability()) / 100;
  }
  return { amount: oneCurrencyTotal(amountsByCurrency), amountsByCurrency, weightedAmount: oneCurrencyTotal(weightedAmountsByCurrency), weightedAmountsByCurrency };
}

/**
 * Whole days in the stage at `atMs` (none yet when the entry lies after it: another instance's clock
 * ahead of this one's), and whether that is more than rotAfterDays × 24 h (GET /analytics/rotting's rule).
 */
export function agedOracle(stageEnteredAt: string, rotAfterDays: number | null, atMs: number): { daysInStage: number; rotting: boolean } {
  const hours = (atMs - Date.parse(stageEnteredAt)) / 3_600_000;
  return { daysInStage: hours < 0 ? 0 : Math.floor(hours / 24), rotting: rotAfterDays !== null && hours > rotAfterDays * 24 };
}
