import type { ProjectionSnapshot } from '../runner/projection-snapshot.store';

/** A save of two models at `position`: 'a' a few kilobytes (many parts in small chunks), 'b' small unless given. */
export const twoModels = (position: number, b: unknown = { n: position }): ProjectionSnapshot[] => [
  { name: 'a', position, logId: 'log', model: { words: Array.from({ length: 300 }, (_, i) => `word-${position}-${i}`) } },
  { name: 'b', position, logId: 'log', model: b },
];

/** The headers of such saves, 'a' at one position and 'b' at another. */
export const twoHeaders = (a: number, b: number) => [
  { name: 'a', position: a, logId: 'log' },
  { name: 'b', position: b, logId: 'log' },
];

/** Chunks and parts small enough that 'a' goes to the snapshot thread in a dozen parts. */
export const SMALL_PARTS = { chunkBytes: 64, partBytes: 256 } as const;
