import {
  addOpportunity,
  changePeople,
  createOpportunityTable,
  createStringCodes,
  encode,
  matchRows,
  NONE,
  rowOf,
  type OpportunityTable,
  type StringCodes,
} from './opportunity-table';
import {
  compareIds,
  createProcessCatalog,
  migrateRow,
  processesOf,
  recordProcessVersion,
  stageKeyOf,
  stageOrderOf,
  versionOf,
  type ProcessCatalog,
} from './process-catalog';
import {
  dictionary,
  float64Column,
  int32Column,
  isProcessVersionRecorded,
  NO_CURRENCY,
  occurredAtMs,
  optionalNumber,
  pushFloat64,
  pushInt32,
  type Float64Column,
  type Int32Column,
  STAGE_LIFE_EVENTS,
} from './projection.helpers';
import type { Projection, ProjectedEvent } from './projection.types';

// Pipeline (DESIGN.md §5): open opportunities per current stage, their amount and weighted amount.
//
// Versions: stages are grouped per process, listed in the order of the process's latest recorded
// version, then stages only older versions have (see stageOrderOf). A stage row shows the
// probability of the latest version that has the stage, but each opportunity is weighted by the
// probability of that stage in the version it runs on, read when it enters the stage: recorded
// versions never change (the version is a hash of the definition), so that equals reading it now;
// only a version recorded after its opportunities (a broken log) leaves earlier entries at 0.
//
// Currencies: `amount` is the plain sum of amounts whatever their currency, kept because a
// single-currency company wants exactly that; adding EUR to USD is meaningless, so
// `amountsByCurrency` (and `weightedAmountsByCurrency`) give the sums per currency, with
// opportunities that have an amount but no currency under NO_CURRENCY. Opportunities without an
// amount are counted and add 0 (and no currency key).
//
// Team/owner filters use the CURRENT team and owner (opportunity-table.ts).
//
// Query cost: one loop over the columns of all opportunities; no aggregates are kept in evolve,
// since sums kept up to date by adding and subtracting floats drift from a fresh sum, and filters
// on the current team/owner would need one aggregate per combination.

export interface PipelineModel {
  readonly catalog: ProcessCatalog;
  readonly table: OpportunityTable;
  readonly currencies: StringCodes;
  // Columns by opportunity row:
  /** Catalog version code. */
  readonly version: Int32Column;
  /** Stage key of the current stage; NONE while closed. */
  readonly stageKey: Int32Column;
  /** NaN when the opportunity has no amount. */
  readonly amount: Float64Column;
  readonly currency: Int32Column;
  /** Probability of the current stage in the opportunity's own version. */
  readonly probability: Float64Column;
  readonly stageEnteredMs: Float64Column;
  readonly stageEnteredAt: string[];
  readonly titles: string[];
  readonly ids: string[];
}

export interface PipelineFilter {
  readonly processId?: string;
  readonly teamId?: string;
  readonly ownerId?: string;
}

export interface PipelineQueryOptions {
  /** Lists the opportunities of each stage, oldest stage entry first (ties by id). */
  readonly includeOpportunities?: boolean;
}

export interface PipelineOpportunity {
  readonly id: string;
  readonly title: string;
  readonly ownerId: string | null;
  readonly teamId: string | null;
  readonly amount: number | null;
  readonly currency: string | null;
  readonly stageEnteredAt: string;
}

export interface PipelineStage {
  readonly stageId: string;
  readonly name: string;
  /** Of the latest recorded version that has this stage. */
  readonly probability: number;
  readonly count: number;
  /** Plain sum over currencies: meaningful only when all amounts share one currency. */
  readonly amount: number;
  readonly amountsByCurrency: Readonly<Record<string, number>>;
  /** Σ amount × probability / 100, each with the probability of its own process version. */
  readonly weightedAmount: number;
  readonly weightedAmountsByCurrency: Readonly<Record<string, number>>;
  readonly opportunities?: readonly PipelineOpportunity[];
}

export interface PipelineProcess {
  readonly processId: string;
  readonly stages: readonly PipelineStage[];
}

export interface PipelineResult {
  readonly processes: readonly PipelineProcess[];
}


export const pipelineProjection: Projection<PipelineModel> = {
  name: 'pipeline',
  handles: new Set(STAGE_LIFE_EVENTS),
  initial: () => ({
    catalog: createProcessCatalog(),
    table: createOpportunityTable(),
    currencies: createStringCodes(),
    version: int32Column(),
    stageKey: int32Column(),
    amount: float64Column(),
    currency: int32Column(),
    probability: float64Column(),
    stageEnteredMs: float64Column(),
    stageEnteredAt: [],
    titles: [],
    ids: [],
  }),
  evolve(model, event) {
    if (isProcessVersionRecorded(event)) {
      recordProcessVersion(model.catalog, event.data);
      return model;
    }
    const { data } = event;
    if (event.type === 'OpportunityOpened') {
      if (addOpportunity(model.table, event) < 0) return model;
      const version = versionOf(model.catalog, String(data.processId), String(data.processVersion));
      const key = stageKeyOf(model.catalog, version, String(data.stage));
      pushInt32(model.version, version.code);
      pushInt32(model.stageKey, key);
      pushFloat64(model.amount, optionalNumber(data.amount) ?? NaN);
      pushInt32(model.currency, encode(model.currencies, data.currency));
      pushFloat64(model.probability, version.probabilityByKey.get(key) ?? 0);
      pushFloat64(model.stageEnteredMs, occurredAtMs(event));
      model.stageEnteredAt.push(String(data.occurredAt));
      model.titles.push(String(data.title));
      model.ids.push(String(data.opportunityId));
      return model;
    }
    // Events of an opportunity never opened (a corrupt or truncated log) have nothing to change.
    const row = rowOf(model.table, event);
    if (row < 0) return model;
    switch (event.type) {
      case 'StageChanged':
        enterStage(model, row, data.to, event);
        break;
      case 'OpportunityWon':
      case 'OpportunityLost':
        model.stageKey.values[row] = NONE;
        break;
      case 'OpportunityReopened':
        enterStage(model, row, data.stage, event);
        break;
      case 'ProcessMigrated': {
        // The visit goes on (same entry time) under the mapped stage, weighted by the new version.
        const { version, stageKey } = migrateRow(model.catalog, model.version, row, data);
        if (model.stageKey.values[row]! < 0) break;
        model.stageKey.values[row] = stageKey;
        model.probability.values[row] = version.probabilityByKey.get(stageKey) ?? 0;
        break;
      }
      case 'OpportunityDetailsChanged': {
        changePeople(model.table, row, data);
        const amount = optionalNumber(data.amount);
        if (amount !== undefined) model.amount.values[row] = amount;
        if (typeof data.currency === 'string') model.currency.values[row] = encode(model.currencies, data.currency);
        if (typeof data.title === 'string') model.titles[row] = data.title;
        break;
      }
    }
    return model;
  },
};

function enterStage(model: PipelineModel, row: number, stageId: unknown, event: ProjectedEvent): void {
  const version = model.catalog.versions[model.version.values[row]!]!;
  const key = stageKeyOf(model.catalog, version, String(stageId));
  model.stageKey.values[row] = key;
  model.probability.values[row] = version.probabilityByKey.get(key) ?? 0;
  model.stageEnteredMs.values[row] = occurredAtMs(event);
  model.stageEnteredAt[row] = String(event.data.occurredAt);
}

export function queryPipeline(model: PipelineModel, filter: PipelineFilter = {}, options: PipelineQueryOptions = {}): PipelineResult {
  // The pipeline is the present: it takes no from/to, even when the caller's object has them.
  const selected = matchRows(model.table, { processId: filter.processId, teamId: filter.teamId, ownerId: filter.ownerId });
  const stageCount = model.catalog.stages.length;
  // Per stage key, and per stage key × currency (slot 0: no currency, else currency code + 1).
  const width = model.currencies.values.length + 1;
  const counts = new Int32Array(stageCount);
  const amounts = new Float64Array(stageCount);
  const weighted = new Float64Array(stageCount);
  const byCurrency = new Float64Array(stageCount * width);
  const weightedByCurrency = new Float64Array(stageCount * width);
  const hasCurrency = new Uint8Array(stageCount * width);
  const listed: number[][] | undefined = options.includeOpportunities ? Array.from({ length: stageCount }, () => []) : undefined;

  const stageKey = model.stageKey.values;
  const amount = model.amount.values;
  const currency = model.currency.values;
  const probability = model.probability.values;
  const rows = model.table.rows;
  for (let row = 0; row < rows; row++) {
    const key = stageKey[row]!;
    if (key < 0 || (selected !== undefined && selected[row] === 0)) continue;
    counts[key]!++;
    if (listed) listed[key]!.push(row);
    const value = amount[row]!;
    if (Number.isNaN(value)) continue; // counted, adds nothing
    const share = (value * probability[row]!) / 100;
    const cell = key * width + currency[row]! + 1;
    amounts[key]! += value;
    weighted[key]! += share;
    byCurrency[cell]! += value;
    weightedByCurrency[cell]! += share;
    hasCurrency[cell] = 1;
  }

  const perCurrency = (sums: Float64Array, key: number): Record<string, number> => {
    const result = dictionary<number>();
    for (let slot = 0; slot < width; slot++) {
      if (hasCurrency[key * width + slot] === 1) result[slot === 0 ? NO_CURRENCY : model.currencies.values[slot - 1]!] = sums[key * width + slot]!;
    }
    return result;
  };

  return {
    processes: processesOf(model.catalog, filter.processId).map((process) => ({
      processId: process.processId,
      stages: stageOrderOf(process).map((key): PipelineStage => {
        const info = model.catalog.stages[key]!;
        const row: PipelineStage = {
          stageId: info.stageId,
          name: info.name,
          probability: info.probability,
          count: counts[key]!,
          amount: amounts[key]!,
          amountsByCurrency: perCurrency(byCurrency, key),
          weightedAmount: weighted[key]!,
          weightedAmountsByCurrency: perCurrency(weightedByCurrency, key),
        };
        return listed ? { ...row, opportunities: opportunitiesOf(model, listed[key]!) } : row;
      }),
    })),
  };
}

function opportunitiesOf(model: PipelineModel, rows: number[]): PipelineOpportunity[] {
  const entered = model.stageEnteredMs.values;
  const { table } = model;
  return rows
    .sort((a, b) => entered[a]! - entered[b]! || compareIds(model.ids[a]!, model.ids[b]!))
    .map((row) => {
      const team = table.team.values[row]!;
      const owner = table.owner.values[row]!;
      const amount = model.amount.values[row]!;
      const currency = model.currency.values[row]!;
      return {
        id: model.ids[row]!,
        title: model.titles[row]!,
        ownerId: owner < 0 ? null : table.owners.values[owner]!,
        teamId: team < 0 ? null : table.teams.values[team]!,
        amount: Number.isNaN(amount) ? null : amount,
        currency: currency < 0 ? null : model.currencies.values[currency]!,
        stageEnteredAt: model.stageEnteredAt[row]!,
      };
    });
}
