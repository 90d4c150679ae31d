// Small helpers the double's specs share.
import { randomUUID } from 'node:crypto';
import { jsonEvent } from '@kurrent/kurrentdb-client';

/** Every item of an async read, in order. */
export async function all<T>(read: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of read) out.push(item);
  return out;
}

/** A JSON event with a fresh id. */
export const event = (type = 'Happened', data: Record<string, unknown> = {}) => jsonEvent({ id: randomUUID(), type, data });
