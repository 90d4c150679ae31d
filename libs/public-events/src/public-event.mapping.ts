import { evolve, type OpenedOpportunityState, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import type { ProcessDefinition } from '@stagecraft/sales-process';
import {
  PUBLIC_EVENT_SOURCE,
  type PublicActor,
  type PublicEvent,
  type PublicEventDataByType,
  type PublicEventOf,
  type PublicEventType,
  type PublicOpportunityContext,
  type PublicStage,
} from './public-event.types';

/** What the mapping needs of the stored event besides its domain event. */
export interface StoredEventFacts {
  readonly id: string;
  readonly revision: number;
  readonly position: number;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** A recorded process version's definition, for stage names and criterion descriptions. */
export type ProcessDefinitionLookup = (processId: string, version: string) => ProcessDefinition | undefined;

export interface MappedEvent {
  /** Absent for an event that tells other services nothing (NoChangeRecorded: a keyed command that changed nothing). */
  readonly publicEvent: PublicEvent | undefined;
  /** The opportunity's state after the event: the `before` of its next event. */
  readonly state: OpenedOpportunityState;
}

/**
 * The one mapping from a private event to its public `.v1` event. Every public field is picked
 * here by name, so a field added to a private event never leaks, and one renamed fails to compile
 * rather than silently change a payload. `before` is the opportunity's state before the event
 * (folded from its stream); names come from the process version the opportunity runs on.
 */
export function toPublicEvent(stored: StoredEventFacts, event: OpportunityEvent, before: OpportunityState, definitions: ProcessDefinitionLookup): MappedEvent {
  const after = evolve(before, event);
  if (after.status === 'none') throw new Error('An opportunity event always leaves an opened opportunity');
  const context = contextOf(after, event.data.occurredAt, actorOf(stored.metadata));
  const stage = (stageId: string, version = after.processVersion) => stageOf(definitions(after.processId, version), stageId);
  const note = (value: string | undefined) => (value !== undefined ? { note: value } : {});
  const nextSteps = (value: string | undefined) => (value !== undefined ? { nextSteps: value } : {});

  const build = <Type extends PublicEventType>(type: Type, data: PublicEventDataByType[Type]): MappedEvent => ({
    publicEvent: envelope(stored, type, event.data.opportunityId, event.data.occurredAt, data) as PublicEvent,
    state: after,
  });

  switch (event.type) {
    case 'OpportunityOpened':
      return build('stagecraft.opportunity.opened.v1', { ...context, stage: stage(event.data.stage) });
    case 'ExitCriterionMet':
    case 'ExitCriterionRevoked': {
      const definition = definitions(after.processId, after.processVersion);
      const type = event.type === 'ExitCriterionMet' ? 'stagecraft.opportunity.exit-criterion-met.v1' : 'stagecraft.opportunity.exit-criterion-revoked.v1';
      return build(type, {
        ...context,
        stage: stageOf(definition, event.data.stage),
        criterion: { id: event.data.criterionId, description: criterionDescription(definition, event.data.stage, event.data.criterionId) },
        ...note(event.data.note),
      });
    }
    case 'StageChanged':
      return build('stagecraft.opportunity.stage-changed.v1', {
        ...context,
        from: stage(event.data.from),
        to: stage(event.data.to),
        direction: event.data.direction,
        ...note(event.data.note),
      });
    case 'OpportunityWon':
      return build('stagecraft.opportunity.won.v1', {
        ...context,
        outcome: 'won',
        stage: stage(event.data.stage),
        ...(event.data.reason !== undefined ? { wonReason: event.data.reason } : {}),
        ...note(event.data.note),
        ...nextSteps(event.data.nextSteps),
      });
    case 'OpportunityLost':
      return build('stagecraft.opportunity.lost.v1', { ...context, outcome: 'lost', stage: stage(event.data.stage), lostReason: event.data.reason, ...note(event.data.note), ...nextSteps(event.data.nextSteps) });
    case 'OpportunityReopened': {
      const previousOutcome = before.status === 'won' || before.status === 'lost' ? before.status : 'lost';
      return build('stagecraft.opportunity.reopened.v1', { ...context, stage: stage(event.data.stage), previousOutcome, ...note(event.data.note) });
    }
    case 'OpportunityDetailsChanged': {
      const { title, teamId, ownerId, amount, currency } = event.data;
      return build('stagecraft.opportunity.details-changed.v1', { ...context, changes: definedOnly({ title, teamId, ownerId, amount, currency }) });
    }
    case 'ExpectedCloseDateChanged':
      return build('stagecraft.opportunity.expected-close-date-changed.v1', { ...context, from: event.data.from, to: event.data.to });
    case 'ProcessMigrated':
      return build('stagecraft.opportunity.process-migrated.v1', {
        ...context,
        fromVersion: event.data.fromVersion,
        toVersion: event.data.toVersion,
        fromStage: stage(event.data.fromStage, event.data.fromVersion),
        toStage: stage(event.data.toStage, event.data.toVersion),
        ...note(event.data.note),
      });
    case 'NoChangeRecorded':
      return { publicEvent: undefined, state: after };
    default: {
      const exhaustive: never = event;
      throw new Error(`No public event for ${(exhaustive as { type: string }).type}`);
    }
  }
}

function envelope<Type extends PublicEventType>(stored: StoredEventFacts, type: Type, subject: string, time: string, data: PublicEventDataByType[Type]): PublicEventOf<Type> {
  const correlationId = stored.metadata.correlationId;
  return {
    specversion: '1.0',
    id: stored.id,
    source: PUBLIC_EVENT_SOURCE,
    type,
    subject,
    time,
    datacontenttype: 'application/json',
    stagecraftposition: String(stored.position),
    stagecraftrevision: stored.revision,
    ...(typeof correlationId === 'string' && correlationId !== '' ? { correlationid: correlationId } : {}),
    data,
  };
}

function contextOf(state: OpenedOpportunityState, occurredAt: string, actor: PublicActor): PublicOpportunityContext {
  return {
    opportunityId: state.id,
    title: state.title,
    processId: state.processId,
    processVersion: state.processVersion,
    ...definedOnly({ teamId: state.teamId, ownerId: state.ownerId, amount: state.amount, currency: state.currency }),
    occurredAt,
    actor,
  };
}

// Events written before actors were recorded carry none: they say so rather than invent one.
function actorOf(metadata: Readonly<Record<string, unknown>>): PublicActor {
  const name = typeof metadata.actor === 'string' && metadata.actor !== '' ? metadata.actor : 'unknown';
  return typeof metadata.onBehalfOf === 'string' ? { name, onBehalfOf: metadata.onBehalfOf } : { name };
}

// A valid log records every version before an opportunity uses it; should one be missing, the
// stage is named by its id rather than the event being held back.
function stageOf(definition: ProcessDefinition | undefined, stageId: string): PublicStage {
  return { id: stageId, name: definition?.stages.find((stage) => stage.id === stageId)?.name ?? stageId };
}

function criterionDescription(definition: ProcessDefinition | undefined, stageId: string, criterionId: string): string {
  const stage = definition?.stages.find((candidate) => candidate.id === stageId);
  return stage?.exitCriteria.find((criterion) => criterion.id === criterionId)?.description ?? criterionId;
}

function definedOnly<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
