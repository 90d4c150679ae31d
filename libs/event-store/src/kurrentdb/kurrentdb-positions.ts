import type { ResolvedEvent } from '@kurrent/kurrentdb-client';
import type { StoredEvent } from '../event-store.port';
import { UnreadableEventError } from '../event-store.errors';
import { MAX_STORED_JSON_DEPTH, nestsDeeperThan } from '../json-depth';

/**
 * The port's positions are JS numbers; KurrentDB's are (commit, prepare) pairs of unsigned 64-bit
 * byte offsets in the transaction log, equal to each other for every event written without an
 * explicit transaction (all of ours). The commit position is the number. A number is exact up to
 * 2^53 bytes (8 PiB of log), far beyond any single log; a larger one is refused, not rounded.
 */
export function toPortPosition(commit: bigint): number {
  if (commit > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`KurrentDB position ${commit} is beyond what the port's positions hold exactly (2^53)`);
  return Number(commit);
}

export function toKurrentPosition(position: number): { commit: bigint; prepare: bigint } {
  if (!Number.isSafeInteger(position) || position < 0) throw new RangeError(`Not a log position: ${position}`);
  return { commit: BigInt(position), prepare: BigInt(position) };
}

// Keys the adapter adds to the metadata for the server's own features ($ce- and correlation
// projections); they are not part of what the writer stored, so reads take them away again.
export const SERVER_METADATA_KEYS = ['$correlationId', '$causationId'] as const;

export function withServerMetadata(metadata: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return {
    ...metadata,
    ...(metadata.correlationId !== undefined ? { $correlationId: metadata.correlationId } : {}),
    ...(metadata.causationId !== undefined ? { $causationId: metadata.causationId } : {}),
  };
}

/** A resolved event from a read or a subscription as the port's StoredEvent (undefined: nothing to deliver). */
export function toStoredEvent(resolved: ResolvedEvent, onlyOurs = false): StoredEvent | undefined {
  const event = resolved.event;
  if (!event?.position) return undefined;
  // Every append of this service writes a JSON object. Where every event read is one of ours (a
  // stream read, the command side's; a subscription filtered to our types or streams), data that is
  // not one (binary, or an array, written by another tool) is refused as the SQLite store refuses
  // it, rather than read as {} and decided or counted on. An unfiltered $all read keeps other
  // applications' events, which the readers skip by type.
  if (onlyOurs && !isRecord(event.data)) {
    const kind = event.data instanceof Uint8Array ? 'binary data' : Array.isArray(event.data) ? 'an array' : typeof event.data;
    throw new UnreadableEventError(event.streamId, Number(event.revision), toPortPosition(event.position.commit), `its data is not a JSON object (${kind})`, event.id);
  }
  // As the SQLite store: data no reader could write out again (an answer, a hash) is refused where it is read.
  if (onlyOurs && nestsDeeperThan(event.data, MAX_STORED_JSON_DEPTH)) {
    throw new UnreadableEventError(event.streamId, Number(event.revision), toPortPosition(event.position.commit), `its data is nested deeper than ${MAX_STORED_JSON_DEPTH} levels`, event.id);
  }
  const metadata: Record<string, unknown> = isRecord(event.metadata) ? { ...event.metadata } : {};
  for (const key of SERVER_METADATA_KEYS) delete metadata[key];
  return {
    id: event.id,
    stream: event.streamId,
    revision: Number(event.revision),
    position: toPortPosition(event.position.commit),
    type: event.type,
    data: isRecord(event.data) ? (event.data as Record<string, unknown>) : {},
    metadata,
    // The client's reads (its native bridge) give `created` to the second, its subscriptions to the
    // millisecond; cut both to the second so an event reads the same either way. The API's own
    // recordedAt in the metadata keeps the milliseconds.
    recordedAt: new Date(Math.floor(event.created.getTime() / 1000) * 1000).toISOString(),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
