import {
  eventTypeFilter,
  FORWARDS,
  NotLeaderError,
  START,
  StreamDeletedError as ClientStreamDeletedError,
  StreamNotFoundError,
  streamNameFilter,
  type Filter,
  type KurrentDBClient,
} from '@kurrent/kurrentdb-client';
import type { StreamHiding } from '../event-store.port';

// What hides a stream's events from readers on KurrentDB while $all still shows them until a
// scavenge (SERVER-BEHAVIOUR.md §10): its metadata ($tb, $maxCount, $maxAge), a soft delete ($tb
// at EventNumber.DeletedStream) and a tombstone. Read through the client's own API
// (getStreamMetadata reads $$<stream>), from the leader.

const LEADER = { requiresLeader: true } as const;
const MAX_LEADER_REDIRECTS = 3;
const TOMBSTONE_TYPE = '$streamDeleted';
const METASTREAM_PREFIX = '$$';

/**
 * Every stream with metadata or a tombstone, found in $all: each metadata write is an event of
 * `$$<stream>`, each tombstone an event of type $streamDeleted (both kept by a scavenge), and what
 * hides its events now, read from its metadata. System streams ($-names) are left out.
 */
export async function findStreamsHidingEvents(client: KurrentDBClient): Promise<StreamHiding[]> {
  const tombstoned = await streamsIn(client, eventTypeFilter({ prefixes: [TOMBSTONE_TYPE] }), (stream) => stream);
  const withMetadata = await streamsIn(client, streamNameFilter({ prefixes: [METASTREAM_PREFIX] }), (stream) => stream.slice(METASTREAM_PREFIX.length));
  const hidings: StreamHiding[] = [...tombstoned].map((stream) => ({ stream, softDeleted: false, tombstoned: true }));
  for (const stream of withMetadata) {
    if (tombstoned.has(stream)) continue;
    const hiding = await readStreamHiding(client, stream);
    if (hiding) hidings.push(hiding);
  }
  return hidings;
}

/** What hides this stream's events from readers, undefined when nothing does. */
export async function readStreamHiding(client: KurrentDBClient, stream: string): Promise<StreamHiding | undefined> {
  let metadata: Record<string, unknown> | undefined;
  try {
    metadata = (await onLeader(() => client.getStreamMetadata(stream, LEADER))).metadata as Record<string, unknown> | undefined;
  } catch (error) {
    // The server deletes a stream's metadata stream with it (§10).
    if (error instanceof ClientStreamDeletedError) return { stream, softDeleted: false, tombstoned: true };
    throw error;
  }
  if (!metadata) return undefined;
  const truncateBefore = count(metadata.truncateBefore);
  const maxCount = count(metadata.maxCount);
  const maxAgeSeconds = count(metadata.maxAge);
  // $tb = EventNumber.DeletedStream (2^63 - 1), parsed as a JSON number beyond exact doubles.
  const softDeleted = truncateBefore !== undefined && truncateBefore >= Number.MAX_SAFE_INTEGER;
  if (softDeleted) return { stream, softDeleted, tombstoned: false };
  if (!truncateBefore && maxCount === undefined && maxAgeSeconds === undefined) return undefined;
  return {
    stream,
    ...(truncateBefore ? { truncateBefore } : {}),
    ...(maxCount !== undefined ? { maxCount } : {}),
    ...(maxAgeSeconds !== undefined ? { maxAgeSeconds } : {}),
    softDeleted,
    tombstoned: false,
    firstReadableRevision: await firstReadableRevision(client, stream),
  };
}

async function firstReadableRevision(client: KurrentDBClient, stream: string): Promise<number | undefined> {
  try {
    return await onLeader(async () => {
      for await (const resolved of client.readStream(stream, { direction: FORWARDS, fromRevision: START, maxCount: 1, ...LEADER })) {
        if (resolved.event) return Number(resolved.event.revision);
      }
      return undefined;
    });
  } catch (error) {
    if (error instanceof StreamNotFoundError) return undefined;
    throw error;
  }
}

/** The names of the streams of the events the filter lets through, over the whole of $all. */
async function streamsIn(client: KurrentDBClient, filter: Filter, nameOf: (stream: string) => string): Promise<Set<string>> {
  return onLeader(async () => {
    const streams = new Set<string>();
    for await (const resolved of client.readAll({ direction: FORWARDS, fromPosition: START, filter, ...LEADER })) {
      const stream = resolved.event ? nameOf(resolved.event.streamId) : undefined;
      if (stream && !stream.startsWith('$')) streams.add(stream);
    }
    return streams;
  });
}

/** Asked of a node no longer the leader (an election): asked again of the one it named, as the adapter's reads are. */
async function onLeader<T>(call: () => Promise<T>, redirects = 0): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof NotLeaderError && redirects < MAX_LEADER_REDIRECTS) return onLeader(call, redirects + 1);
    throw error;
  }
}

/** A non-negative integer setting, as the server takes it; anything else it ignores. */
function count(value: unknown): number | undefined {
  const number = typeof value === 'bigint' ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number >= 0 ? number : undefined;
}
