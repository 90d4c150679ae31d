import { compileProcess, type CompiledProcess } from '@stagecraft/sales-process';
import type { OpportunityEvent } from './opportunity.events';
import { foldOpportunity } from './opportunity.evolve';
import { deciderSpecification } from './testing/decider.specification';
import { at, command, events, OPPORTUNITY_ID, shippedProcess } from './testing/opportunity.fixtures';

const v1 = shippedProcess('standard');
// v2 replaces "qualification" by "discovery" (two of its criteria, one new) and keeps the rest.
const v2 = compileProcess({
  ...v1.definition,
  stages: v1.definition.stages.map((stage) =>
    stage.id === 'qualification'
      ? { id: 'discovery', name: 'Discovery', probability: 25, exitCriteria: [stage.exitCriteria[0]!, stage.exitCriteria[3]!, { id: 'champion', description: 'A champion is identified' }] }
      : stage,
  ),
});
const older = compileProcess({ ...v1.definition, name: 'An older standard' });
const recorded: Record<string, { process: CompiledProcess; recordedOrder: number }> = {
  [older.version]: { process: older, recordedOrder: 0 },
  [v1.version]: { process: v1, recordedOrder: 1 },
  [v2.version]: { process: v2, recordedOrder: 2 },
};
const spec = deciderSpecification(v1, (version) => recorded[version]);
const { opened, met, moved, lost } = events;
const migrate = (extra: Record<string, unknown> = {}) => ({ type: 'MigrateOpportunity' as const, ...command(), toVersion: v2.version, ...extra });
const migrated = (minute: number, data: Partial<Extract<OpportunityEvent, { type: 'ProcessMigrated' }>['data']>): OpportunityEvent => ({
  type: 'ProcessMigrated',
  data: { opportunityId: OPPORTUNITY_ID, occurredAt: at(minute), processId: 'standard', fromVersion: v1.version, toVersion: v2.version, stageMapping: {}, fromStage: 'new', toStage: 'new', criteriaKept: [], ...data },
});

describe('decide, migrating an opportunity to a newer process version', () => {
  const inQualification = [opened(v1, 0), moved('new', 'qualification', 'forward', 1), met('qualification', 'need-confirmed', 2), met('qualification', 'pain-points', 3), met('qualification', 'goals', 4)];

  it('keeps the stage when the new version has it', () => {
    spec.given([opened(v1, 0)]).when(migrate()).then([migrated(59, {})]);
  });

  it('maps the current stage and keeps the criteria the target stage also has', () => {
    spec
      .given(inQualification)
      .when(migrate({ stageMapping: { qualification: 'discovery' }, note: 'Q3 process' }))
      .then([migrated(59, { stageMapping: { qualification: 'discovery' }, fromStage: 'qualification', toStage: 'discovery', criteriaKept: ['need-confirmed', 'goals'], note: 'Q3 process' })]);
  });

  it('continues the visit: same entry time, new version, mapped stage', () => {
    const state = foldOpportunity([...inQualification, migrated(30, { fromStage: 'qualification', toStage: 'discovery', criteriaKept: ['goals'] })]);
    expect(state).toMatchObject({ status: 'open', processVersion: v2.version, stage: 'discovery', stageEnteredAt: at(1), criteriaMet: ['goals'], lastOccurredAt: at(30) });
  });

  it('refuses a current stage the target lacks, unless mapped', () => {
    spec.given(inQualification).when(migrate()).thenRejects('OPPORTUNITY.UNMAPPED_STAGE', { stage: 'qualification', knownStages: ['new', 'discovery', 'proposition', 'negotiation'] });
  });

  it('refuses a mapping to a stage the target lacks, or from a stage the source lacks', () => {
    spec.given(inQualification).when(migrate({ stageMapping: { qualification: 'closing' } })).thenRejects('OPPORTUNITY.INVALID_STAGE_MAPPING', { problem: 'unknown-target-stage', to: 'closing' });
    spec.given(inQualification).when(migrate({ stageMapping: { qualifcation: 'discovery' } })).thenRejects('OPPORTUNITY.INVALID_STAGE_MAPPING', { problem: 'unknown-source-stage', from: 'qualifcation' });
    // A stage the target keeps cannot be sent elsewhere: that would be a move without the move's rules.
    spec.given(inQualification).when(migrate({ stageMapping: { qualification: 'discovery', new: 'proposition' } })).thenRejects('OPPORTUNITY.INVALID_STAGE_MAPPING', { problem: 'stage-still-exists', from: 'new', to: 'proposition' });
  });

  it('refuses a mapping past the first stage the target keeps after the removed one: it would skip that stage and its criteria', () => {
    // qualification is followed by proposition, which v2 keeps: negotiation lies past it.
    spec
      .given(inQualification)
      .when(migrate({ stageMapping: { qualification: 'negotiation' } }))
      .thenRejects('OPPORTUNITY.INVALID_STAGE_MAPPING', { problem: 'past-next-stage', from: 'qualification', to: 'negotiation', knownStages: ['new', 'discovery', 'proposition'] });
    // Up to that stage, or back, is a place the deal may be.
    spec.given(inQualification).when(migrate({ stageMapping: { qualification: 'proposition' } })).then([migrated(59, { stageMapping: { qualification: 'proposition' }, fromStage: 'qualification', toStage: 'proposition', criteriaKept: [] })]);
    spec.given(inQualification).when(migrate({ stageMapping: { qualification: 'new' } })).then([migrated(59, { stageMapping: { qualification: 'new' }, fromStage: 'qualification', toStage: 'new', criteriaKept: [] })]);
    // The rule holds for every entry of the mapping (a bulk migration applies it to many deals), not only the deal's stage.
    spec.given([opened(v1, 0)]).when(migrate({ stageMapping: { qualification: 'negotiation' } })).thenRejects('OPPORTUNITY.INVALID_STAGE_MAPPING', { problem: 'past-next-stage' });
  });

  it('refuses a closed opportunity, an unknown version, the same or an older version', () => {
    spec.given([...inQualification, lost('qualification', 'price', 10)]).when(migrate()).thenRejects('OPPORTUNITY.ALREADY_CLOSED');
    spec.given(inQualification).when(migrate({ toVersion: 'nope' })).thenRejects('OPPORTUNITY.UNKNOWN_PROCESS_VERSION', { version: 'nope' });
    spec.given(inQualification).when(migrate({ toVersion: v1.version })).thenRejects('OPPORTUNITY.NOT_A_NEWER_VERSION');
    spec.given(inQualification).when(migrate({ toVersion: older.version })).thenRejects('OPPORTUNITY.NOT_A_NEWER_VERSION');
  });

  it('after migrating, the new version decides: the mapped stage needs its own criteria', () => {
    const after = [...inQualification, migrated(30, { fromStage: 'qualification', toStage: 'discovery', criteriaKept: ['need-confirmed', 'goals'], stageMapping: { qualification: 'discovery' } })];
    const onV2 = deciderSpecification(v2, (version) => recorded[version]);
    onV2.given(after).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'proposition' }).thenRejects('OPPORTUNITY.EXIT_CRITERIA_UNMET', { stage: 'discovery', unmetCriteria: [{ id: 'champion', description: 'A champion is identified' }] });
    onV2.given([...after, met('discovery', 'champion', 31)]).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'proposition' }).then([moved('discovery', 'proposition', 'forward', 59)]);
  });
});
