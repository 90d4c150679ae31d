import type { OpportunityEvent } from './opportunity.events';
import { definedOnly } from './defined-only';
import type { OpenedOpportunityState, OpportunityState } from './opportunity.state';

/**
 * A stored event that cannot follow the state it is applied to, or that lacks what applying it
 * needs (`why`: a field a decider always writes, altered outside the service): the stream is corrupt.
 */
export class UnexpectedEventError extends Error {
  constructor(
    readonly eventType: string,
    readonly status: OpportunityState['status'],
    why = `cannot be applied to an opportunity whose status is "${status}"`,
  ) {
    super(`Event ${eventType} ${why}`);
    this.name = 'UnexpectedEventError';
  }
}

/**
 * A stored event of a type this version does not read, in an opportunity's stream: written by a
 * newer version, or altered outside the service. Named by stream and revision, where it stands.
 */
export class UnknownEventTypeError extends Error {
  constructor(
    readonly stream: string,
    readonly revision: number,
    readonly eventType: string,
  ) {
    super(`Stream ${stream} holds event type "${eventType}" at revision ${revision}, which this version cannot read`);
    this.name = 'UnknownEventTypeError';
  }
}

/**
 * Folds one event into the state. A plain reducer: replay never runs the machine or its guards,
 * so history stays readable after the process definition changes.
 */
export function evolve(state: OpportunityState, event: OpportunityEvent): OpportunityState {
  const { occurredAt } = event.data;
  switch (event.type) {
    case 'OpportunityOpened': {
      if (state.status !== 'none') throw new UnexpectedEventError(event.type, state.status);
      const { opportunityId, processId, processVersion, stage, title, teamId, ownerId, amount, currency } = event.data;
      return {
        status: 'open',
        id: opportunityId,
        processId,
        processVersion,
        title,
        ...definedOnly({ teamId, ownerId, amount, currency }),
        openedAt: occurredAt,
        lastOccurredAt: occurredAt,
        stage,
        stageEnteredAt: occurredAt,
        criteriaMet: [],
      };
    }
    case 'ExitCriterionMet': {
      const open = expectOpen(state, event.type);
      return { ...open, lastOccurredAt: occurredAt, criteriaMet: [...open.criteriaMet, event.data.criterionId] };
    }
    case 'ExitCriterionRevoked': {
      const open = expectOpen(state, event.type);
      return {
        ...open,
        lastOccurredAt: occurredAt,
        criteriaMet: open.criteriaMet.filter((id) => id !== event.data.criterionId),
      };
    }
    case 'StageChanged': {
      const open = expectOpen(state, event.type);
      return { ...open, lastOccurredAt: occurredAt, stage: event.data.to, stageEnteredAt: occurredAt, criteriaMet: [] };
    }
    case 'OpportunityWon': {
      const { stageEnteredAt: _entered, criteriaMet: _met, status: _status, ...facts } = expectOpen(state, event.type);
      return { ...facts, status: 'won', stage: event.data.stage, ...definedOnly({ reason: event.data.reason, nextSteps: event.data.nextSteps }), lastOccurredAt: occurredAt, closedAt: occurredAt };
    }
    case 'OpportunityLost': {
      const { stageEnteredAt: _entered, criteriaMet: _met, status: _status, ...facts } = expectOpen(state, event.type);
      return { ...facts, status: 'lost', stage: event.data.stage, reason: event.data.reason, ...definedOnly({ nextSteps: event.data.nextSteps }), lastOccurredAt: occurredAt, closedAt: occurredAt };
    }
    case 'OpportunityReopened': {
      if (state.status !== 'won' && state.status !== 'lost') throw new UnexpectedEventError(event.type, state.status);
      const { closedAt: _closed, status: _status, ...facts } = state;
      const { reason: _reason, nextSteps: _nextSteps, ...rest } = facts as typeof facts & { reason?: string; nextSteps?: string };
      return { ...rest, status: 'open', stage: event.data.stage, stageEnteredAt: occurredAt, lastOccurredAt: occurredAt, criteriaMet: [] };
    }
    case 'OpportunityDetailsChanged': {
      const opened = expectOpened(state, event.type);
      const { opportunityId: _id, occurredAt: _at, ...changes } = event.data;
      return { ...opened, ...definedOnly(changes), lastOccurredAt: occurredAt };
    }
    case 'ExpectedCloseDateChanged': {
      const { expectedCloseDate: _previous, ...opened } = expectOpened(state, event.type);
      const { to } = event.data;
      return { ...opened, ...(to === null ? {} : { expectedCloseDate: to }), lastOccurredAt: occurredAt } as OpenedOpportunityState;
    }
    case 'ProcessMigrated': {
      // The visit goes on: same entry time, under the mapped stage id, with the criteria kept.
      const open = expectOpen(state, event.type);
      // Spread as it is, a criteriaKept edited away would be a TypeError (a 500, a stack-less CLI message), and a string would spread into letters.
      const kept: unknown = event.data.criteriaKept;
      if (!Array.isArray(kept)) throw new UnexpectedEventError(event.type, state.status, `${kept === undefined ? 'holds no criteriaKept' : `holds criteriaKept as ${excerpt(JSON.stringify(kept))}`}, not the list of criterion ids a migration records`);
      return { ...open, processVersion: event.data.toVersion, stage: event.data.toStage, criteriaMet: [...(kept as string[])], lastOccurredAt: occurredAt };
    }
    case 'NoChangeRecorded': {
      if (state.status === 'none') throw new UnexpectedEventError(event.type, state.status);
      return { ...state, lastOccurredAt: occurredAt };
    }
    default: {
      const exhaustive: never = event;
      throw new Error(`Unknown event ${(exhaustive as { type: string }).type}`);
    }
  }
}

/** Stored text for a message: a bounded excerpt is enough to find it. */
function excerpt(text: string): string {
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** Folds a whole stream, oldest first. */
export function foldOpportunity(events: Iterable<OpportunityEvent>, from: OpportunityState = { status: 'none' }): OpportunityState {
  let state = from;
  for (const event of events) state = evolve(state, event);
  return state;
}

function expectOpen(state: OpportunityState, eventType: string) {
  if (state.status !== 'open') throw new UnexpectedEventError(eventType, state.status);
  return state;
}

function expectOpened(state: OpportunityState, eventType: string): OpenedOpportunityState {
  if (state.status === 'none') throw new UnexpectedEventError(eventType, state.status);
  return state;
}

