import { createProcessCatalog, versionOf, type ProcessCatalog } from '../process-catalog';

// The process catalog (process-catalog.ts) as plain JSON, so the projector can keep it with its
// checkpoint and the API can read it back: stage keys, orders and ranks come back exactly as they
// were, which the figures depend on (stage order, funnel ranks, probabilities).

export interface SerializedCatalog {
  readonly stages: readonly { readonly key: number; readonly processId: string; readonly stageId: string; readonly name: string; readonly probability: number; readonly rotAfterDays?: number | null }[];
  readonly versions: readonly { readonly processId: string; readonly version: string; readonly recorded: boolean; readonly stageKeys: readonly number[]; readonly probabilities: readonly (readonly [number, number])[]; readonly criteria?: readonly (readonly [number, readonly string[]])[] }[];
  readonly processes: readonly { readonly processId: string; readonly stageKeys: readonly number[]; readonly latest: number | null }[];
}

export function serializeCatalog(catalog: ProcessCatalog): SerializedCatalog {
  return {
    stages: catalog.stages.map(({ key, processId, stageId, name, probability, rotAfterDays }) => ({ key, processId, stageId, name, probability, rotAfterDays: rotAfterDays ?? null })),
    versions: catalog.versions.map((version) => ({
      processId: version.process.processId,
      version: version.version,
      recorded: version.recorded,
      stageKeys: [...version.stageKeys],
      probabilities: [...version.probabilityByKey.entries()],
      criteria: [...(version.criteriaByKey ?? new Map<number, readonly string[]>()).entries()],
    })),
    processes: [...catalog.processes.values()].map((process) => ({ processId: process.processId, stageKeys: [...process.stageKeys], latest: process.latest?.code ?? null })),
  };
}

export function deserializeCatalog(saved: SerializedCatalog): ProcessCatalog {
  const catalog = createProcessCatalog();
  // Processes in their order of first appearance (the Map's order), then versions by code.
  for (const process of saved.processes) {
    catalog.processes.set(process.processId, { processId: process.processId, stageKeys: [...process.stageKeys], keyByStageId: new Map(), versions: new Map(), latest: undefined, order: undefined });
  }
  for (const stage of saved.stages) {
    catalog.stages.push({ ...stage, rotAfterDays: stage.rotAfterDays ?? null });
    catalog.processes.get(stage.processId)!.keyByStageId.set(stage.stageId, stage.key);
  }
  for (const saved_ of saved.versions) {
    const entry = versionOf(catalog, saved_.processId, saved_.version);
    entry.recorded = saved_.recorded;
    saved_.stageKeys.forEach((key, rank) => {
      entry.stageKeys.push(key);
      entry.rankByKey.set(key, rank);
      entry.keyByStageId.set(catalog.stages[key]!.stageId, key);
    });
    for (const [key, probability] of saved_.probabilities) entry.probabilityByKey.set(key, probability);
    // Saved before migration 8 there are none; that migration makes the projector fold the log again.
    for (const [key, criteria] of saved_.criteria ?? []) entry.criteriaByKey!.set(key, [...criteria]);
  }
  for (const process of saved.processes) {
    if (process.latest !== null) catalog.processes.get(process.processId)!.latest = catalog.versions[process.latest];
  }
  return catalog;
}
