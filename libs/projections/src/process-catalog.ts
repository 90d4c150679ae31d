import type { ProcessMigrated } from '@stagecraft/opportunity';
import type { ProcessVersionRecordedData } from '@stagecraft/sales-process';

// Process versions are recorded in `sales-process-<processId>` (names in @stagecraft/sales-process).
export { PROCESS_STREAM_PREFIX, PROCESS_VERSION_RECORDED } from '@stagecraft/sales-process';

/**
 * A stage of one process, identified across all its versions by a small integer `key` that is
 * unique in the catalog: read models index their per-stage arrays by it, and one number tells
 * both the process and the stage.
 */
export interface CatalogStage {
  readonly key: number;
  readonly processId: string;
  readonly stageId: string;
  /** Name and probability in the most recently recorded version that has the stage. */
  name: string;
  probability: number;
  /** rotAfterDays in the most recently recorded version that has the stage; null: it never rots (undefined in models saved before it existed). */
  rotAfterDays?: number | null;
}

export interface CatalogVersion {
  /** Index in ProcessCatalog.versions: read models store this number per opportunity. */
  readonly code: number;
  readonly process: CatalogProcess;
  readonly version: string;
  /** False while only opportunities mention the version (the log promises this never lasts). */
  recorded: boolean;
  /** Stage keys in this version's own order. */
  readonly stageKeys: number[];
  readonly keyByStageId: Map<string, number>;
  /** Rank of a stage key in this version's order. */
  readonly rankByKey: Map<number, number>;
  /** Probability (0–100) of a stage key in this version; 0 for stages the definition lacks. */
  readonly probabilityByKey: Map<number, number>;
  /**
   * Exit criterion ids of a stage key in this version, in definition order (none for stages the
   * definition lacks). Absent in models saved before it existed: those that read it are rebuilt.
   */
  criteriaByKey?: Map<number, readonly string[]>;
}

export interface CatalogProcess {
  readonly processId: string;
  /** Every stage key of the process, in order of first appearance in the log. */
  readonly stageKeys: number[];
  readonly keyByStageId: Map<string, number>;
  readonly versions: Map<string, CatalogVersion>;
  /** The version recorded last: new opportunities open on it and its order leads every report. */
  latest: CatalogVersion | undefined;
  /** Cached display order; reset whenever a version is recorded or a stage appears. */
  order: number[] | undefined;
}

export interface ProcessCatalog {
  readonly processes: Map<string, CatalogProcess>;
  /** Indexed by stage key. */
  readonly stages: CatalogStage[];
  /** Indexed by version code. */
  readonly versions: CatalogVersion[];
}

export function createProcessCatalog(): ProcessCatalog {
  return { processes: new Map(), stages: [], versions: [] };
}

/** Applies a `ProcessVersionRecorded` event's data; a record without a definition is ignored, never thrown on. */
export function recordProcessVersion(catalog: ProcessCatalog, data: ProcessVersionRecordedData): void {
  const { processId, version, definition } = data;
  if (!definition || !Array.isArray(definition.stages)) return;
  const entry = versionOf(catalog, processId, version);
  if (!entry.recorded) {
    // Definition order first; stages an opportunity mentioned before the record keep their place after it.
    const extra = entry.stageKeys.slice();
    entry.stageKeys.length = 0;
    entry.rankByKey.clear();
    for (const stage of definition.stages) {
      const key = addStageToVersion(catalog, entry, stage.id);
      entry.probabilityByKey.set(key, stage.probability);
      (entry.criteriaByKey ??= new Map()).set(key, (stage.exitCriteria ?? []).map((criterion: { readonly id: string }) => criterion.id));
    }
    for (const key of extra) if (!entry.rankByKey.has(key)) appendKey(entry, key);
    entry.recorded = true;
  }
  // Recorded again (a definition reverted to an earlier version) still makes it the latest.
  for (const stage of definition.stages) {
    const info = catalog.stages[entry.keyByStageId.get(stage.id)!]!;
    info.name = stage.name;
    info.probability = stage.probability;
    info.rotAfterDays = typeof stage.rotAfterDays === 'number' ? stage.rotAfterDays : null;
  }
  entry.process.latest = entry;
  entry.process.order = undefined;
}

/** The version an opportunity runs on; an unrecorded one gets an empty placeholder. */
export function versionOf(catalog: ProcessCatalog, processId: string, version: string): CatalogVersion {
  const process = processOf(catalog, processId);
  let entry = process.versions.get(version);
  if (!entry) {
    entry = {
      code: catalog.versions.length,
      process,
      version,
      recorded: false,
      stageKeys: [],
      keyByStageId: new Map(),
      rankByKey: new Map(),
      probabilityByKey: new Map(),
      criteriaByKey: new Map(),
    };
    process.versions.set(version, entry);
    catalog.versions.push(entry);
  }
  return entry;
}

/**
 * The key of a stage an opportunity entered. A stage its version does not define (which a
 * valid log never holds) is appended to the version with probability 0, so nothing is dropped.
 */
export function stageKeyOf(catalog: ProcessCatalog, version: CatalogVersion, stageId: string): number {
  const key = version.keyByStageId.get(stageId);
  return key !== undefined ? key : addStageToVersion(catalog, version, stageId);
}

/**
 * Applies a ProcessMigrated event's data to an opportunity's version column: the row now runs on
 * `toVersion`. Returns the new version and the stage key of the stage it continues in there.
 * Past visits keep the keys they had: a stage key names a stage id of the process, in any version.
 */
export function migrateRow(catalog: ProcessCatalog, versionCodes: { values: Int32Array }, row: number, data: ProcessMigrated['data']): { from: CatalogVersion; version: CatalogVersion; stageKey: number } {
  const from = catalog.versions[versionCodes.values[row]!]!;
  const version = versionOf(catalog, from.process.processId, data.toVersion);
  versionCodes.values[row] = version.code;
  return { from, version, stageKey: stageKeyOf(catalog, version, data.toStage) };
}

/**
 * The order every report lists a process's stages in: the latest version's stages in its order,
 * then stages only older (or unrecorded) versions have, in order of first appearance in the log.
 */
export function stageOrderOf(process: CatalogProcess): readonly number[] {
  if (process.order) return process.order;
  const latest = process.latest?.stageKeys ?? [];
  const inLatest = new Set(latest);
  process.order = [...latest, ...process.stageKeys.filter((key) => !inLatest.has(key))];
  return process.order;
}

/** Exit criteria of a stage key in a version: how many the stage has and how many of `met` are among them (each counted once). */
export function criteriaProgressOf(version: CatalogVersion, key: number, met: readonly string[]): { met: number; total: number } {
  const criteria = version.criteriaByKey?.get(key);
  if (criteria === undefined) return { met: 0, total: 0 };
  // A plain loop: the board asks this for every card it lists.
  let count = 0;
  for (const id of criteria) if (met.includes(id)) count++;
  return { met: count, total: criteria.length };
}

/** Processes sorted by id (code-unit order), optionally only one. */
export function processesOf(catalog: ProcessCatalog, processId: string | undefined): CatalogProcess[] {
  if (processId !== undefined) {
    const process = catalog.processes.get(processId);
    return process ? [process] : [];
  }
  return [...catalog.processes.values()].sort((a, b) => compareIds(a.processId, b.processId));
}

export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function processOf(catalog: ProcessCatalog, processId: string): CatalogProcess {
  let process = catalog.processes.get(processId);
  if (!process) {
    process = { processId, stageKeys: [], keyByStageId: new Map(), versions: new Map(), latest: undefined, order: undefined };
    catalog.processes.set(processId, process);
  }
  return process;
}

function addStageToVersion(catalog: ProcessCatalog, version: CatalogVersion, stageId: string): number {
  const process = version.process;
  let key = process.keyByStageId.get(stageId);
  if (key === undefined) {
    key = catalog.stages.length;
    catalog.stages.push({ key, processId: process.processId, stageId, name: stageId, probability: 0, rotAfterDays: null });
    process.keyByStageId.set(stageId, key);
    process.stageKeys.push(key);
    process.order = undefined;
  }
  version.keyByStageId.set(stageId, key);
  if (!version.probabilityByKey.has(key)) version.probabilityByKey.set(key, 0);
  appendKey(version, key);
  return key;
}

function appendKey(version: CatalogVersion, key: number): void {
  version.rankByKey.set(key, version.stageKeys.length);
  version.stageKeys.push(key);
}
