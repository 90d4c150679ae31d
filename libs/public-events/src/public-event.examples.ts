import type { OpportunityEvent, OpportunityState } from '@stagecraft/opportunity';
import type { ProcessDefinition } from '@stagecraft/sales-process';
import { toPublicEvent, type ProcessDefinitionLookup } from './public-event.mapping';
import type { PublicEvent } from './public-event.types';

// One opportunity's life that produces every public type once, mapped by the real mapping: the
// AsyncAPI document's examples, and the golden file the mapping spec compares against.

const stages = (names: readonly [string, string][]) =>
  names.map(([id, name]) => ({ id, name, probability: 50, exitCriteria: id === 'qualification' ? [{ id: 'budget-confirmed', description: 'There is a budget' }] : [] }));

const v1: ProcessDefinition = {
  id: 'standard',
  name: 'Standard B2B sales',
  stages: stages([['new', 'New'], ['qualification', 'Qualification'], ['proposition', 'Proposition']]),
  rules: { allowSkipping: false, allowBackward: true, winFrom: ['proposition'] },
  lostReasons: ['price', 'timing'],
  teams: [],
};
const v2: ProcessDefinition = { ...v1, stages: stages([['new', 'New'], ['qualification', 'Qualifying'], ['proposal', 'Proposal']]), rules: { ...v1.rules, winFrom: ['proposal'] }, wonReasons: ['renewal', 'new-business'] };

export const EXAMPLE_DEFINITIONS: ProcessDefinitionLookup = (processId, version) => (processId !== 'standard' ? undefined : version === 'v1-1f2e3d4c' ? v1 : version === 'v2-5a6b7c8d' ? v2 : undefined);

const id = '0b9a4c52-7f8e-4d1a-9c3b-2e6f5a8d7c10';
const at = (day: number) => `2026-03-${String(day).padStart(2, '0')}T09:00:00.000Z`;

export const EXAMPLE_PRIVATE_EVENTS: readonly OpportunityEvent[] = [
  { type: 'OpportunityOpened', data: { opportunityId: id, occurredAt: at(2), processId: 'standard', processVersion: 'v1-1f2e3d4c', stage: 'new', title: 'ACME renewal', teamId: 'direct', ownerId: 'ana', amount: 48000, currency: 'EUR' } },
  { type: 'StageChanged', data: { opportunityId: id, occurredAt: at(3), from: 'new', to: 'qualification', direction: 'forward', note: 'discovery call done' } },
  { type: 'ExitCriterionMet', data: { opportunityId: id, occurredAt: at(4), stage: 'qualification', criterionId: 'budget-confirmed', note: 'CFO confirmed' } },
  { type: 'ExitCriterionRevoked', data: { opportunityId: id, occurredAt: at(5), stage: 'qualification', criterionId: 'budget-confirmed' } },
  { type: 'OpportunityDetailsChanged', data: { opportunityId: id, occurredAt: at(6), amount: 52000, ownerId: 'ben' } },
  { type: 'ExpectedCloseDateChanged', data: { opportunityId: id, occurredAt: at(6), from: null, to: '2026-04-30' } },
  { type: 'ProcessMigrated', data: { opportunityId: id, occurredAt: at(7), processId: 'standard', fromVersion: 'v1-1f2e3d4c', toVersion: 'v2-5a6b7c8d', stageMapping: {}, fromStage: 'qualification', toStage: 'qualification', criteriaKept: [] } },
  { type: 'OpportunityLost', data: { opportunityId: id, occurredAt: at(8), stage: 'qualification', reason: 'timing', note: 'next budget year', nextSteps: 'Call again in January' } },
  { type: 'OpportunityReopened', data: { opportunityId: id, occurredAt: at(20), stage: 'qualification' } },
  { type: 'ExitCriterionMet', data: { opportunityId: id, occurredAt: at(21), stage: 'qualification', criterionId: 'budget-confirmed' } },
  { type: 'StageChanged', data: { opportunityId: id, occurredAt: at(22), from: 'qualification', to: 'proposal', direction: 'forward' } },
  { type: 'OpportunityWon', data: { opportunityId: id, occurredAt: at(25), stage: 'proposal', reason: 'renewal', nextSteps: 'Kick-off call with the customer' } },
];

/** The public events of the example life, in order. */
export function examplePublicEvents(): PublicEvent[] {
  let state: OpportunityState = { status: 'none' };
  return EXAMPLE_PRIVATE_EVENTS.flatMap((event, revision) => {
    const stored = {
      id: `7c1d${String(revision).padStart(4, '0')}-3a2b-4c5d-8e9f-0a1b2c3d4e5f`,
      revision,
      position: 1000 + revision * 7,
      metadata: { actor: 'crm', onBehalfOf: 'ana', correlationId: `req-${revision}`, commandId: 'internal', authenticatedBy: 'api-key:internal', hash: 'internal' },
    };
    const mapped = toPublicEvent(stored, event, state, EXAMPLE_DEFINITIONS);
    state = mapped.state;
    return mapped.publicEvent ?? [];
  });
}
