import { LOST_END, restoreReadSideState, WON_END, type ReadSideState, type SerializedReadSideState } from './read-side.fold';

// The small state the projector keeps with its checkpoint (catalog, codes, counters) is derived,
// as the tables are: one that no longer reads (a hand edit, a partial restore, a bug of another
// version) must make the projector fold the log again and the queries answer 503, not stop
// start-up or answer 500 with a TypeError from deep inside the catalog.

/** The checkpoint's saved state is not what a projector writes; `reason` says where it differs. */
export class UnreadableReadSideStateError extends Error {
  constructor(readonly reason: string) {
    super(`the state saved with the checkpoint does not read (${reason})`);
    this.name = 'UnreadableReadSideStateError';
  }
}

export interface SavedCounters {
  readonly pairs: readonly (readonly [number, number, number])[];
  readonly visitTotals: readonly (readonly [number, number, number])[];
}

/** The state and counters read back from the checkpoint row, checked; throws UnreadableReadSideStateError. */
export function readSavedReadSideState(state: unknown, counters: unknown): ReadSideState {
  const problem = savedStateProblem(state) ?? savedCountersProblem(counters, (state as SerializedReadSideState).catalog.stages.length);
  if (problem !== undefined) throw new UnreadableReadSideStateError(problem);
  const saved = state as SerializedReadSideState;
  const { pairs, visitTotals } = (counters as SavedCounters | null) ?? { pairs: [], visitTotals: [] };
  try {
    return restoreReadSideState(
      saved,
      pairs.map(([from, to, count], pairNo) => ({ pairNo, from, to, count })),
      visitTotals.map(([stageKey, count, sum]) => ({ stageKey, count, sum })),
    );
  } catch (error) {
    throw new UnreadableReadSideStateError((error as Error).message);
  }
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isKey = (value: unknown, below: number): boolean => Number.isSafeInteger(value) && (value as number) >= 0 && (value as number) < below;
const isStrings = (value: unknown): boolean => Array.isArray(value) && value.every((entry) => typeof entry === 'string');
const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** Why a saved state is not one serializeReadSideState writes, or undefined. */
export function savedStateProblem(state: unknown): string | undefined {
  if (!isObject(state)) return 'state is not an object';
  if (!isStrings(state.currencies)) return 'currencies is not a list of codes';
  if (!isStrings(state.reasons)) return 'reasons is not a list of codes';
  const catalog = state.catalog;
  if (!isObject(catalog) || !Array.isArray(catalog.stages) || !Array.isArray(catalog.versions) || !Array.isArray(catalog.processes)) return 'catalog lacks its stages, versions or processes';
  const stages = catalog.stages as unknown[];
  const versions = catalog.versions as unknown[];
  const processIds = new Set<string>();
  for (const [index, process] of (catalog.processes as unknown[]).entries()) {
    if (!isObject(process) || typeof process.processId !== 'string') return `catalog.processes[${index}] has no processId`;
    if (!Array.isArray(process.stageKeys) || !process.stageKeys.every((key) => isKey(key, stages.length))) return `catalog.processes[${index}].stageKeys names a stage the catalog does not hold`;
    if (process.latest !== null && !isKey(process.latest, versions.length)) return `catalog.processes[${index}].latest names a version the catalog does not hold`;
    processIds.add(process.processId);
  }
  for (const [index, stage] of stages.entries()) {
    // A stage's key is its place in the list: the versions and processes find it there.
    if (!isObject(stage) || stage.key !== index) return `catalog.stages[${index}] is not stage ${index}`;
    if (typeof stage.stageId !== 'string' || typeof stage.name !== 'string' || !isFiniteNumber(stage.probability)) return `catalog.stages[${index}] lacks its stageId, name or probability`;
    if (typeof stage.processId !== 'string' || !processIds.has(stage.processId)) return `catalog.stages[${index}] names a process the catalog does not hold`;
    if (stage.rotAfterDays !== undefined && stage.rotAfterDays !== null && !isFiniteNumber(stage.rotAfterDays)) return `catalog.stages[${index}].rotAfterDays is not a number`;
  }
  for (const [index, version] of versions.entries()) {
    if (!isObject(version) || typeof version.version !== 'string' || typeof version.recorded !== 'boolean') return `catalog.versions[${index}] lacks its version or recorded`;
    if (typeof version.processId !== 'string' || !processIds.has(version.processId)) return `catalog.versions[${index}] names a process the catalog does not hold`;
    if (!Array.isArray(version.stageKeys) || !version.stageKeys.every((key) => isKey(key, stages.length))) return `catalog.versions[${index}].stageKeys names a stage the catalog does not hold`;
    const pairs = (value: unknown, second: (entry: unknown) => boolean) => Array.isArray(value) && value.every((entry) => Array.isArray(entry) && entry.length === 2 && isKey(entry[0], stages.length) && second(entry[1]));
    if (!pairs(version.probabilities, isFiniteNumber)) return `catalog.versions[${index}].probabilities is not a list of [stage key, probability]`;
    if (version.criteria !== undefined && !pairs(version.criteria, isStrings)) return `catalog.versions[${index}].criteria is not a list of [stage key, criterion ids]`;
  }
  return undefined;
}

/**
 * Why saved counters are not what the writer keeps (null: none yet), or undefined. `stages`: how many
 * stages the catalog they go with holds; a pair or total naming another (the transitions query
 * names each pair's stages from the catalog) does not read either.
 */
export function savedCountersProblem(counters: unknown, stages: number): string | undefined {
  if (counters === null || counters === undefined) return undefined;
  const triples = (value: unknown) => Array.isArray(value) && value.every((entry) => Array.isArray(entry) && entry.length === 3 && entry.every(isFiniteNumber));
  if (!isObject(counters) || !triples(counters.pairs) || !triples(counters.visitTotals)) return 'counters are not lists of number triples';
  const end = (value: number) => value === WON_END || value === LOST_END || isKey(value, stages);
  for (const [index, [from, to]] of (counters.pairs as number[][]).entries()) {
    if (!end(from!) || !end(to!)) return `counters.pairs[${index}] names a stage the catalog does not hold`;
  }
  for (const [index, [stageKey]] of (counters.visitTotals as number[][]).entries()) {
    if (!isKey(stageKey, stages)) return `counters.visitTotals[${index}] names a stage the catalog does not hold`;
  }
  return undefined;
}
