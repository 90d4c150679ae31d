import { AsyncLocalStorage } from 'node:async_hooks';

// The log position an answer reflects (X-Projection-Position): the lowest position among the read
// models its queries read, each at the moment it was read — not where the read side stands when
// the answer is sent, which may be past what the figures include (it moves on meanwhile). Each
// adapter says where it read (readAtPosition); the edge runs an answer's queries in
// readingPositions. A scope per answer, so answers made side by side do not mix.

const answering = new AsyncLocalStorage<{ lowest: number | undefined }>();

/** Runs one answer's queries; `position` is the lowest position they read at (undefined: none read). */
export async function readingPositions<T>(work: () => Promise<T>): Promise<{ value: T; position: number | undefined }> {
  const seen: { lowest: number | undefined } = { lowest: undefined };
  const value = await answering.run(seen, work);
  return { value, position: seen.lowest };
}

/** Called by a read side as a query reads it: the figures include the log up to `position`. */
export function readAtPosition(position: number): void {
  const seen = answering.getStore();
  if (seen) seen.lowest = Math.min(seen.lowest ?? position, position);
}
