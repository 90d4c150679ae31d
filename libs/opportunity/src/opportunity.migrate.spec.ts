import { compileProcess, type CompiledProcess } from '@stagecraft/sales-process';
import type { OpportunityEvent } from './opportunity.events';
import { foldOpportunity, UnexpectedEventError } from './opportunity.evolve';
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
// v3: only team partners runs it any more.
const partnersOnly = compileProcess({ ...v1.definition, teams: ['partners'] });
const recorded: Record<string, { process: CompiledProcess; recordedOrder: number }> = {
  [older.version]: { process: older, recordedOrder: 0 },
  [v1.version]: { process: v1, recordedOrder: 1 },
  [v2.version]: { process: v2, recordedOrder: 2 },
  [partnersOnly.version]: { process: partnersOnly, recordedOrder: 3 },
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

  it('refuses a version its team does not run, as an opening would; a deal of a team it runs, or of none, migrates', () => {
    spec
      .given([opened(v1, 0, { teamId: 'direct' })])
      .when(migrate({ toVersion: partnersOnly.version }))
      .thenRejects('OPPORTUNITY.UNKNOWN_TEAM', { teamId: 'direct', teams: ['partners'] });
    spec.given([opened(v1, 0, { teamId: 'partners' })]).when(migrate({ toVersion: partnersOnly.version })).then([migrated(59, { toVersion: partnersOnly.version })]);
    spec.given([opened(v1, 0)]).when(migrate({ toVersion: partnersOnly.version })).then([migrated(59, { toVersion: partnersOnly.version })]);
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

  it('refuses a mapping past where a deal there may stand: one stage past the last kept stage it passed, never past one it had not reached', () => {
    // qualification (dropped) came after new (passed); v2 puts discovery right after new: proposition lies past it.
    for (const to of ['proposition', 'negotiation']) {
      spec
        .given(inQualification)
        .when(migrate({ stageMapping: { qualification: to } }))
        .thenRejects('OPPORTUNITY.INVALID_STAGE_MAPPING', { problem: 'past-next-stage', from: 'qualification', to, knownStages: ['new', 'discovery'] });
    }
    // Up to that stage, or back, is a place the deal may be.
    spec.given(inQualification).when(migrate({ stageMapping: { qualification: 'new' } })).then([migrated(59, { stageMapping: { qualification: 'new' }, fromStage: 'qualification', toStage: 'new', criteriaKept: [] })]);
    // The rule holds for every entry of the mapping (a bulk migration applies it to many deals), not only the deal's stage.
    spec.given([opened(v1, 0)]).when(migrate({ stageMapping: { qualification: 'negotiation' } })).thenRejects('OPPORTUNITY.INVALID_STAGE_MAPPING', { problem: 'past-next-stage' });
  });

  it('bounds a dropped stage that no kept stage follows: the last stages dropped and others added in their place', () => {
    // v3 keeps new and qualification, drops proposition and negotiation, adds review and signing.
    const v3 = compileProcess({
      ...v1.definition,
      stages: [...v1.definition.stages.slice(0, 2), { id: 'review', name: 'Review', probability: 60, exitCriteria: [{ id: 'r-ok', description: 'Reviewed' }] }, { id: 'signing', name: 'Signing', probability: 90, exitCriteria: [] }],
      rules: { ...v1.definition.rules, winFrom: ['signing'] },
    });
    const withV3 = deciderSpecification(v1, (version) => (version === v3.version ? { process: v3, recordedOrder: 3 } : recorded[version]));
    const inProposition = [...inQualification, met('qualification', 'budget-confirmed', 5), met('qualification', 'decision-maker', 6), moved('qualification', 'proposition', 'forward', 7)];
    withV3
      .given(inProposition)
      .when(migrate({ toVersion: v3.version, stageMapping: { proposition: 'signing' } }))
      .thenRejects('OPPORTUNITY.INVALID_STAGE_MAPPING', { problem: 'past-next-stage', to: 'signing', knownStages: ['new', 'qualification', 'review'] });
    withV3.given(inProposition).when(migrate({ toVersion: v3.version, stageMapping: { proposition: 'review' } })).then([migrated(59, { toVersion: v3.version, stageMapping: { proposition: 'review' }, fromStage: 'proposition', toStage: 'review', criteriaKept: [] })]);
  });

  it('refuses to keep a deal in a stage the target puts behind a stage it never reached (reordered, or added before it); it may be mapped back', () => {
    // v4 swaps qualification and proposition: a deal in qualification has never met proposition's criteria.
    const [newStage, qualification, proposition, negotiation] = v1.definition.stages;
    const v4 = compileProcess({ ...v1.definition, stages: [newStage!, proposition!, qualification!, negotiation!] });
    // v5 adds a review stage (with a criterion) between qualification and proposition.
    const v5 = compileProcess({ ...v1.definition, stages: [newStage!, qualification!, { id: 'review', name: 'Review', probability: 40, exitCriteria: [{ id: 'r-ok', description: 'Reviewed' }] }, proposition!, negotiation!] });
    const more = deciderSpecification(v1, (version) => (version === v4.version ? { process: v4, recordedOrder: 4 } : version === v5.version ? { process: v5, recordedOrder: 5 } : recorded[version]));
    more
      .given(inQualification)
      .when(migrate({ toVersion: v4.version }))
      .thenRejects('OPPORTUNITY.INVALID_STAGE_MAPPING', { problem: 'kept-stage-past-next-stage', from: 'qualification', knownStages: ['new', 'proposition'] });
    more
      .given(inQualification)
      .when(migrate({ toVersion: v4.version, stageMapping: { qualification: 'proposition' } }))
      .then([migrated(59, { toVersion: v4.version, stageMapping: { qualification: 'proposition' }, fromStage: 'qualification', toStage: 'proposition', criteriaKept: [] })]);
    const inProposition = [...inQualification, met('qualification', 'budget-confirmed', 5), met('qualification', 'decision-maker', 6), moved('qualification', 'proposition', 'forward', 7)];
    more
      .given(inProposition)
      .when(migrate({ toVersion: v5.version }))
      .thenRejects('OPPORTUNITY.INVALID_STAGE_MAPPING', { problem: 'kept-stage-past-next-stage', from: 'proposition', knownStages: ['new', 'qualification', 'review'] });
    // A deal that has not reached the new stage keeps its own, as before; so does one past it (negotiation passed proposition).
    more.given(inQualification).when(migrate({ toVersion: v5.version })).then([migrated(59, { toVersion: v5.version, fromStage: 'qualification', toStage: 'qualification', criteriaKept: ['need-confirmed', 'pain-points', 'goals'] })]);
    // A kept stage within the bound still cannot be mapped elsewhere.
    more.given(inQualification).when(migrate({ toVersion: v5.version, stageMapping: { qualification: 'new' } })).thenRejects('OPPORTUNITY.INVALID_STAGE_MAPPING', { problem: 'stage-still-exists' });
  });

  it('keeps no criterion of the stage left when the deal is mapped to another stage the source version has: its criteria were never met in this visit', () => {
    // Ids are unique within a stage only: b and c both ask for "approved". v2 drops b.
    const approved = { id: 'approved', description: 'Approved by a manager' };
    const stages = ['a', 'b', 'c'].map((id, index) => ({ id, name: id.toUpperCase(), probability: 10 + 30 * index, exitCriteria: [approved] }));
    const source = compileProcess({ ...v1.definition, id: 'shared', stages, rules: { ...v1.definition.rules, winFrom: ['c'] } });
    const target = compileProcess({ ...source.definition, stages: [stages[0]!, stages[2]!] });
    const shared = deciderSpecification(source, (version) => (version === source.version ? { process: source, recordedOrder: 0 } : version === target.version ? { process: target, recordedOrder: 1 } : undefined));
    const inB = [opened(source, 0), met('a', 'approved', 1), moved('a', 'b', 'forward', 2), met('b', 'approved', 3)];
    const to = (stage: string) => migrated(59, { processId: 'shared', fromVersion: source.version, toVersion: target.version, stageMapping: { b: stage }, fromStage: 'b', toStage: stage, criteriaKept: [] });
    // Forward to c: c's "approved" was never met, so the deal could be won at once.
    shared.given(inB).when(migrate({ toVersion: target.version, stageMapping: { b: 'c' } })).then([to('c')]);
    // Back to a: a stage entered backward starts with none met.
    shared.given(inB).when(migrate({ toVersion: target.version, stageMapping: { b: 'a' } })).then([to('a')]);
  });

  it('keeps a stage named like an inherited property (constructor) when the target keeps it, with no mapping', () => {
    const odd = (name: string) =>
      compileProcess({ ...v1.definition, id: 'odd', name, stages: [{ id: 'constructor', name: 'Built', probability: 10, exitCriteria: [] }, { id: 'done', name: 'Done', probability: 90, exitCriteria: [] }], rules: { ...v1.definition.rules, winFrom: ['done'] } });
    const [first, second] = [odd('Odd'), odd('Odd, renamed')];
    const oddSpec = deciderSpecification(first, (version) => (version === first.version ? { process: first, recordedOrder: 0 } : version === second.version ? { process: second, recordedOrder: 1 } : undefined));
    oddSpec
      .given([opened(first, 0)])
      .when(migrate({ toVersion: second.version }))
      .then([migrated(59, { processId: 'odd', fromVersion: first.version, toVersion: second.version, fromStage: 'constructor', toStage: 'constructor' })]);
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

// Only a log edited outside the service holds a migration without its list of kept criteria: folding
// it is refused as a stream that does not replay (the API's STREAM_UNREADABLE, history's exit 1), never a
// TypeError (a 500 INTERNAL), nor a text spread into one criterion per letter.
describe('folding a migration whose criteriaKept was edited', () => {
  it.each([
    ['removed', undefined, 'holds no criteriaKept'],
    ['null', null, 'holds criteriaKept as null'],
    ['a text', 'goals', 'holds criteriaKept as "goals"'],
    ['an object', { 0: 'goals' }, 'holds criteriaKept as {"0":"goals"}'],
  ])('%s: an UnexpectedEventError naming the field', (_label, criteriaKept, said) => {
    const edited = migrated(5, {});
    const data: Record<string, unknown> = { ...edited.data, criteriaKept };
    if (criteriaKept === undefined) delete data.criteriaKept;
    const fold = () => foldOpportunity([opened(v1, 0), { type: 'ProcessMigrated', data } as OpportunityEvent]);
    expect(fold).toThrow(UnexpectedEventError);
    expect(fold).toThrow(`Event ProcessMigrated ${said}, not the list of criterion ids a migration records`);
  });
});
