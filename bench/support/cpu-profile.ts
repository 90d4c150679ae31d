// Reads a V8 CPU profile (.cpuprofile, as node:inspector's Profiler.stop returns it) and says where
// the time went: per function, its own time (self) and its time with everything it called
// (total, counted once per sample however deep the recursion); per package or source folder, the
// self time of everything in it. Used by `npm run bench:commands -- --profile`.

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface ProfileLine {
  readonly name: string;
  readonly micros: number;
  readonly share: number;
}

export interface ProfileSummary {
  readonly totalMicros: number;
  /** Busy time: every sample but (idle). */
  readonly busyMicros: number;
  readonly self: readonly ProfileLine[];
  readonly total: readonly ProfileLine[];
  readonly byPlace: readonly ProfileLine[];
}

const ROOT_MARK = /\/(?:dist|node_modules)\//;

/** "fn (place:line)", the place shortened to the package or the source file under dist/. */
function functionKey(frame: CallFrame): string {
  return `${frame.functionName || '(anonymous)'} ${frame.url ? `(${shortPlace(frame.url)}:${frame.lineNumber + 1})` : ''}`.trim();
}

function shortPlace(url: string): string {
  const path = url.replace(/^file:\/\//, '');
  const cut = path.search(ROOT_MARK);
  if (cut >= 0) return path.slice(cut + 1).replace(/^dist\//, '');
  return path;
}

/** The package (node_modules/<name>), the source folder (dist/libs/<lib>, dist/apps/<app>/src/<dir>), node's own code, or V8's markers. */
function placeOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return 'node: built-ins';
  const path = url.replace(/^file:\/\//, '');
  const modules = path.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const parts = path.slice(modules + '/node_modules/'.length).split('/');
    return `node_modules/${parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  const dist = path.search(/\/dist\//);
  if (dist >= 0) return path.slice(dist + 1).split('/').slice(0, 4).join('/');
  return path;
}

export function summariseProfile(profile: CpuProfile, top = 30): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let totalMicros = 0;
  let idle = 0;
  const add = (map: Map<string, number>, key: string, micros: number) => map.set(key, (map.get(key) ?? 0) + micros);

  for (let i = 0; i < profile.samples.length; i += 1) {
    // The delta before sample i is the time that sample stands for (V8's convention, close enough).
    const micros = profile.timeDeltas[i] ?? 0;
    const node = byId.get(profile.samples[i]!);
    if (!node) continue;
    totalMicros += micros;
    if (node.callFrame.functionName === '(idle)') idle += micros;
    add(self, functionKey(node.callFrame), micros);
    add(byPlace, placeOf(node.callFrame), micros);
    const seen = new Set<string>();
    for (let at: number | undefined = node.id; at !== undefined; at = parent.get(at)) {
      const key = functionKey(byId.get(at)!.callFrame);
      if (seen.has(key)) continue;
      seen.add(key);
      add(total, key, micros);
    }
  }
  const busyMicros = totalMicros - idle;
  const lines = (map: Map<string, number>, skip: (name: string) => boolean = () => false) =>
    [...map.entries()]
      .filter(([name]) => !skip(name))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, micros, share: busyMicros > 0 ? micros / busyMicros : 0 }));
  return {
    totalMicros,
    busyMicros,
    self: lines(self, (name) => name === '(idle)'),
    // Entry points everything sits under say nothing: drop them from the inclusive list.
    total: lines(total, (name) => name === '(root)' || name === '(idle)' || name.startsWith('processTicksAndRejections') || name.startsWith('listOnTimeout')),
    byPlace: lines(byPlace, (name) => name === '(idle)'),
  };
}

interface SamplingHeapNode {
  readonly callFrame: CallFrame;
  readonly selfSize: number;
  readonly children: readonly SamplingHeapNode[];
}

/** A sampling heap profile (HeapProfiler.stopSampling), taken with the objects garbage collection freed kept in. */
export interface SamplingHeapProfile {
  readonly head: SamplingHeapNode;
}

export interface AllocationSummary {
  readonly totalBytes: number;
  /** Bytes allocated by each function itself, and per package or source folder (share: of totalBytes). */
  readonly self: readonly ProfileLine[];
  readonly byPlace: readonly ProfileLine[];
}

/** Where the bytes allocated during the profile were allocated: per function (its own) and per package or folder. */
export function summariseAllocations(profile: SamplingHeapProfile, top = 30): AllocationSummary {
  const self = new Map<string, number>();
  const byPlace = new Map<string, number>();
  let totalBytes = 0;
  const add = (map: Map<string, number>, key: string, bytes: number) => map.set(key, (map.get(key) ?? 0) + bytes);
  const pending: SamplingHeapNode[] = [profile.head];
  while (pending.length > 0) {
    const node = pending.pop()!;
    if (node.selfSize > 0) {
      totalBytes += node.selfSize;
      add(self, functionKey(node.callFrame), node.selfSize);
      add(byPlace, placeOf(node.callFrame), node.selfSize);
    }
    pending.push(...node.children);
  }
  // `micros` carries bytes here: ProfileLine is the same shape either way.
  const lines = (map: Map<string, number>) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, bytes]) => ({ name, micros: bytes, share: totalBytes > 0 ? bytes / totalBytes : 0 }));
  return { totalBytes, self: lines(self), byPlace: lines(byPlace) };
}
