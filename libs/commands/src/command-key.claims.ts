import { chainNewEvents, headHashOf } from '@stagecraft/audit';
import { DuplicateEventIdError, WrongExpectedRevisionError, type EventStore } from '@stagecraft/event-store';
import type { CommandEnvelope } from './command-envelope';
import { IdempotencyKeyReusedError } from './command.errors';
import { deterministicUuid } from './deterministic-uuid';

// An Idempotency-Key names one command on one opportunity: a retry finds it in that opportunity's
// stream. An opening is the one command whose opportunity the key may choose (a client may give
// an id), so the key that opened a deal is claimed in a stream of its own: reusing it to open
// another id is refused, however the two requests race.

export const COMMAND_KEY_STREAM_PREFIX = 'command-key-';
export const COMMAND_KEY_CLAIMED = 'CommandKeyClaimed';

/** The stream where a key used to open an opportunity is claimed; the key itself is not written, only its digest. */
export function commandKeyStreamOf(commandId: string): string {
  return `${COMMAND_KEY_STREAM_PREFIX}${deterministicUuid('command-key', commandId)}`;
}

/**
 * Which request wrote a keyed command's events, from their metadata: the `attemptId` the executor
 * draws for each request. Events written before it was recorded are told apart by their correlation
 * id and server time, which two retries of one operation (the same X-Correlation-Id) reaching two
 * instances in the same millisecond share: each took the other's events for its own.
 */
export function attemptOf(metadata: Readonly<Record<string, unknown>>): string {
  return typeof metadata.attemptId === 'string' ? metadata.attemptId : `${String(metadata.correlationId)}@${String(metadata.recordedAt)}`;
}

/**
 * Claims a client's key for the opportunity it opens. A key already claimed for another opportunity
 * is refused (422 COMMAND.IDEMPOTENCY_KEY_REUSED); for the same one it is a retry and passes.
 * The claim's event id comes from the key and the opportunity, so two racing retries write one.
 */
export async function claimOpeningKey(store: EventStore, envelope: CommandEnvelope, opportunityId: string): Promise<void> {
  const stream = commandKeyStreamOf(envelope.commandId);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const claims = await store.readStream(stream);
    if (claims.length > 0) {
      if (claims[0]!.data.opportunityId !== opportunityId) throw new IdempotencyKeyReusedError(envelope.commandId);
      return;
    }
    const { events } = chainNewEvents(stream, 0, headHashOf(claims), [
      {
        id: deterministicUuid('command-key-claim', stream, opportunityId),
        type: COMMAND_KEY_CLAIMED,
        data: { opportunityId, occurredAt: envelope.now },
        metadata: { commandId: envelope.commandId, correlationId: envelope.correlationId, actor: envelope.actor, authenticatedBy: envelope.authenticatedBy, recordedAt: envelope.now },
      },
    ]);
    try {
      await store.appendToStream(stream, events, { expectedRevision: 'no_stream' });
      return;
    } catch (error) {
      // Another request claimed it first: read whose claim it is.
      if (!(error instanceof WrongExpectedRevisionError) && !(error instanceof DuplicateEventIdError)) throw error;
    }
  }
  throw new IdempotencyKeyReusedError(envelope.commandId);
}
