import { toOpportunityStreamId } from '@stagecraft/opportunity';
import type { ProcessDefinition } from '@stagecraft/sales-process';
import { PROCESS_STREAM_PREFIX, PROCESS_VERSION_RECORDED } from '../process-catalog';
import type { ProjectedEvent } from '../projection.types';

// Hand-written global logs for example-based specs: explicit times, explicit versions.

export interface FixtureProcess {
  readonly definition: ProcessDefinition;
  readonly version: string;
}

/** Minute n of a fixed day (n may exceed 59: it is simply added). */
export const at = (minute: number): string => new Date(Date.UTC(2026, 2, 1, 9, 0) + minute * 60_000).toISOString();

function fixtureProcess(id: string, version: string, stages: readonly [string, string, number][], winFrom: string[]): FixtureProcess {
  return {
    version,
    definition: {
      id,
      name: id,
      stages: stages.map(([stageId, name, probability]) => ({ id: stageId, name, probability, exitCriteria: [] })),
      rules: { allowSkipping: true, allowBackward: true, winFrom },
      lostReasons: ['price', 'timing'],
      teams: [],
    },
  };
}

export const standardV1 = fixtureProcess('standard', 'v1', [['new', 'New', 10], ['legacy', 'Legacy', 40], ['won-over', 'Won over', 80]], ['won-over']);
// v2 renames and re-weights "new", drops "legacy".
export const standardV2 = fixtureProcess('standard', 'v2', [['new', 'Fresh', 30], ['won-over', 'Won over', 90]], ['won-over']);
export const threeStages = fixtureProcess('three', 'v1', [['a', 'A', 10], ['b', 'B', 50], ['c', 'C', 90]], ['c']);

let position = 0;
const event = (stream: string, type: string, data: Record<string, unknown>): ProjectedEvent => ({ position: ++position, stream, type, data });
const opportunityEvent = (id: string, type: string, minute: number, data: Record<string, unknown>) =>
  event(toOpportunityStreamId(id), type, { opportunityId: id, occurredAt: at(minute), ...data });

export const log = {
  version: ({ definition, version }: FixtureProcess) =>
    event(`${PROCESS_STREAM_PREFIX}${definition.id}`, PROCESS_VERSION_RECORDED, { processId: definition.id, version, definition, source: 'fixture' }),
  opened: (id: string, { definition, version }: FixtureProcess, minute: number, extra: Record<string, unknown> = {}) =>
    opportunityEvent(id, 'OpportunityOpened', minute, {
      processId: definition.id,
      processVersion: version,
      stage: definition.stages[0]!.id,
      title: `Deal ${id}`,
      ...extra,
    }),
  // No read model reads `direction`, so fixtures do not bother to get it right.
  moved: (id: string, from: string, to: string, minute: number) => opportunityEvent(id, 'StageChanged', minute, { from, to, direction: 'forward' }),
  won: (id: string, stage: string, minute: number, amount?: number) =>
    opportunityEvent(id, 'OpportunityWon', minute, { stage, ...(amount === undefined ? {} : { amount }) }),
  lost: (id: string, stage: string, reason: string, minute: number) => opportunityEvent(id, 'OpportunityLost', minute, { stage, reason }),
  reopened: (id: string, stage: string, minute: number) => opportunityEvent(id, 'OpportunityReopened', minute, { stage }),
  details: (id: string, minute: number, changes: Record<string, unknown>) => opportunityEvent(id, 'OpportunityDetailsChanged', minute, changes),
  migrated: (id: string, from: FixtureProcess, to: FixtureProcess, fromStage: string, toStage: string, minute: number, stageMapping: Record<string, string> = {}) =>
    opportunityEvent(id, 'ProcessMigrated', minute, { processId: from.definition.id, fromVersion: from.version, toVersion: to.version, stageMapping, fromStage, toStage, criteriaKept: [] }),
};
