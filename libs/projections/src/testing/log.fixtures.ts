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

/** The amounts of orderSensitiveLog: the small one is a quarter of the spacing of doubles near the large one. */
export const ORDER_SENSITIVE_AMOUNTS = { small: 0.0625, large: 1e15 } as const;

/**
 * A log whose float sums change with the order its amounts are added in: per currency (EUR and USD,
 * their rows interleaved, so a sort by currency that is not stable reorders them) 40 small amounts
 * opened first in the log, then one large one opened first in business time. Added in log order
 * the small ones survive; with the large one first each is rounded away. `renamed`: each small deal
 * is renamed later, so its rows are written again after the large ones' (a scan in physical order
 * meets the large ones first).
 */
export function orderSensitiveLog({ renamed = false }: { renamed?: boolean } = {}): ProjectedEvent[] {
  const { small, large } = ORDER_SENSITIVE_AMOUNTS;
  const events = [log.version(standardV1)];
  for (let i = 0; i < 40; i++) {
    for (const currency of ['EUR', 'USD']) events.push(log.opened(`small-${currency}-${i}`, standardV1, 100 + i, { amount: small, currency, teamId: `team-${i % 2}` }));
  }
  for (const currency of ['EUR', 'USD']) events.push(log.opened(`large-${currency}`, standardV1, 0, { amount: large, currency, teamId: 'team-0' }));
  if (renamed) for (let i = 0; i < 40; i++) for (const currency of ['EUR', 'USD']) events.push(log.details(`small-${currency}-${i}`, 300, { title: `Renamed ${i}` }));
  return events;
}
