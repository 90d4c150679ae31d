import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, WrongExpectedRevisionError, type EventStore, type StoredEvent } from '@stagecraft/event-store';
import {
  decide,
  foldOpportunity,
  rejections,
  toOpportunityStreamId,
  type OpenOpportunity,
  type OpportunityCommand,
  type OpportunityState,
} from '@stagecraft/opportunity';
import { canonicalJson } from '@stagecraft/sales-process';
import { createHash } from 'node:crypto';
import { ApiProblem } from '../http/problem';
import { OpportunityRejectedError } from '../http/problem.mapping';
import { ProcessRegistry } from '../processes/process-registry.service';
import { API_SETTINGS } from '../settings/api-settings.token';
import type { ApiSettings } from '../settings/api-settings';
import type { CommandEnvelope, CommandOutcome } from './command-envelope';
import { eventIdFor, toOpportunityEvents } from './opportunity-stream.events';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** A domain command as the edge builds it; the executor adds the server time. */
export type OpportunityCommandBody = DistributiveOmit<OpportunityCommand, 'now'>;

/**
 * The one command path: read the stream → fold → decide → append with the expected revision.
 * Conflicts the client did not ask about are retried here; those it did ask about are its own.
 */
@Injectable()
export class OpportunityCommandExecutor {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly processes: ProcessRegistry,
    @Inject(API_SETTINGS) private readonly settings: ApiSettings,
  ) {}

  async execute(body: OpportunityCommandBody, envelope: CommandEnvelope): Promise<CommandOutcome> {
    const stream = toOpportunityStreamId(body.opportunityId);
    const command = { ...body, now: envelope.now } as OpportunityCommand;
    const fingerprint = fingerprintOf(body);

    for (let attempt = 0; ; attempt += 1) {
      const stored = await this.store.readStream(stream);
      if (envelope.clientSuppliedId) {
        const replay = replayOf(stored, envelope.commandId, fingerprint);
        if (replay) return replay;
      }
      const last = stored[stored.length - 1];
      const actualRevision = last ? last.revision : 'no_stream';
      if (envelope.expectedRevision !== undefined && envelope.expectedRevision !== actualRevision) {
        throw new WrongExpectedRevisionError(stream, envelope.expectedRevision, actualRevision);
      }

      const state = foldOpportunity(toOpportunityEvents(stored));
      if (state.status === 'none' && command.type !== 'OpenOpportunity') {
        throw new OpportunityRejectedError(rejections.notFound(command.opportunityId));
      }
      const process =
        state.status === 'none'
          ? this.processes.current((command as OpenOpportunity).processId)
          : this.processes.version(state.processId, state.processVersion);
      const decision = decide(command, state, process);
      if (!decision.ok) throw new OpportunityRejectedError(decision.error);
      if (decision.events.length === 0) return outcomeOf(state, last!.revision, last!.position, false);

      const metadata = {
        commandId: envelope.commandId,
        correlationId: envelope.correlationId,
        causationId: envelope.commandId,
        actor: envelope.actor,
        recordedAt: envelope.now,
        ...(envelope.clientSuppliedId ? { commandFingerprint: fingerprint } : {}),
      };
      const newEvents = decision.events.map((event, index) => ({
        id: eventIdFor(stream, envelope.commandId, index),
        type: event.type,
        data: { ...event.data },
        metadata,
      }));
      try {
        const result = await this.store.appendToStream(stream, newEvents, { expectedRevision: actualRevision });
        return outcomeOf(foldOpportunity(decision.events, state), result.nextRevision, result.position, false);
      } catch (error) {
        const retryable = error instanceof WrongExpectedRevisionError && envelope.expectedRevision === undefined;
        if (!retryable) throw error;
        if (attempt >= this.settings.conflictRetries) {
          throw new ApiProblem(409, 'OPPORTUNITY.CONCURRENT_MODIFICATION', `The opportunity kept changing while this command was decided (${attempt + 1} attempts); retry shortly.`, {
            attempts: attempt + 1,
          });
        }
      }
    }
  }
}

function fingerprintOf(body: OpportunityCommandBody): string {
  return createHash('sha256').update(canonicalJson(body)).digest('base64url').slice(0, 22);
}

/**
 * A command id already in the stream means this request is a retry: answer what the first one
 * answered (the state right after its events). The same key with a different body is a mistake.
 */
function replayOf(stored: readonly StoredEvent[], commandId: string, fingerprint: string): CommandOutcome | undefined {
  const lastIndex = findLastIndex(stored, (event) => event.metadata.commandId === commandId);
  if (lastIndex < 0) return undefined;
  const event = stored[lastIndex]!;
  if (event.metadata.commandFingerprint !== fingerprint) {
    throw new ApiProblem(422, 'COMMAND.IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was already used with a different request; use a new key for a new command.', {
      commandId,
    });
  }
  const state = foldOpportunity(toOpportunityEvents(stored.slice(0, lastIndex + 1)));
  return outcomeOf(state, event.revision, event.position, true);
}

function outcomeOf(state: OpportunityState, revision: number, position: number, replayed: boolean): CommandOutcome {
  if (state.status === 'none') throw new Error('An outcome needs an opened opportunity');
  return { id: state.id, stage: state.stage, status: state.status, revision, position, replayed };
}

function findLastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let index = items.length - 1; index >= 0; index -= 1) if (predicate(items[index]!)) return index;
  return -1;
}
