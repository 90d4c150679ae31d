import { allMet, at, events as e, shippedProcess } from '../../opportunity/src/testing/opportunity.fixtures';
import type { OpportunityEvent } from '@stagecraft/opportunity';
import { timelineOf } from './timeline';
import type { StoredEventLike } from './stored-event-like';

const standard = shippedProcess('standard');
const resolve = (processId: string, version: string) => (processId === 'standard' && version === standard.version ? standard : undefined);

function stored(domainEvents: readonly OpportunityEvent[], actors: Record<number, string> = {}): StoredEventLike[] {
  return domainEvents.map((event, revision) => ({
    stream: 'opportunity-opp-1',
    revision,
    type: event.type,
    data: event.data,
    metadata: { actor: actors[revision] ?? 'ana', recordedAt: event.data.occurredAt },
  }));
}

describe('timelineOf', () => {
  const history = [
    e.opened(standard, 0),
    e.moved('new', 'qualification', 'forward', 10),
    ...allMet(standard, 'qualification', 11), // minutes 11–15
    e.revoked('qualification', 'goals', 16),
    e.met('qualification', 'goals', 17),
    e.moved('qualification', 'proposition', 'forward', 20),
    e.moved('proposition', 'qualification', 'backward', 50),
    e.lost('qualification', 'price', 55),
    e.reopened('qualification', 58),
  ];

  // 'sometime', and what Date.parse would read as some other instant all the same: 5 (2001), a date
  // alone, a time without a zone (this machine's), none of which a writer of the log puts there.
  it.each(['sometime', 5, at(10).slice(0, 10), at(10).slice(0, 19)])('gives no time spent where a business time is no instant with a zone (%p: a log edited outside the service), on either end', (occurredAt) => {
    // The move into qualification ends its span at the edited time, and the next one starts there.
    const edited = stored([history[0]!, history[1]!, e.moved('qualification', 'proposition', 'forward', 20), e.moved('proposition', 'qualification', 'backward', 50)]);
    edited[1] = { ...edited[1]!, data: { ...edited[1]!.data, occurredAt } };
    const steps = timelineOf(edited, resolve);
    expect(steps.map((step) => [step.stageAfter, step.secondsInStageLeft])).toEqual([
      ['new', null],
      ['qualification', null],
      ['proposition', null],
      ['qualification', 1800],
    ]);
  });

  it('gives one step per move, with time spent in the stage left, the actor and the evidence', () => {
    const steps = timelineOf(stored(history, { 9: 'bob' }), resolve);
    expect(steps.map((step) => [step.kind, step.stageBefore, step.stageAfter, step.secondsInStageLeft])).toEqual([
      ['opened', null, 'new', null],
      ['moved', 'new', 'qualification', 600],
      ['moved', 'qualification', 'proposition', 600],
      ['moved', 'proposition', 'qualification', 1800],
      ['lost', 'qualification', 'lost', 300],
      ['reopened', 'lost', 'qualification', 180],
    ]);
    const forward = steps[2]!;
    expect(forward).toMatchObject({ revision: 9, actor: 'bob', direction: 'forward', stageBeforeName: 'Qualification', stageAfterName: 'Proposition', occurredAt: at(20) });
    // Criteria met at the moment of the move, in the order met; the revoked one counts from when it was met again.
    expect(forward.criteriaMet.map((item) => [item.criterionId, item.metAt])).toEqual([
      ['need-confirmed', at(11)],
      ['budget-confirmed', at(12)],
      ['pain-points', at(13)],
      ['decision-maker', at(15)],
      ['goals', at(17)],
    ]);
    expect(forward.criteriaMet[0]!.description).toBe('The need to buy the product or service is confirmed');
    // A new visit starts with no evidence.
    expect(steps[3]!.criteriaMet).toEqual([]);
    expect(steps[4]).toMatchObject({ reason: 'price', stageAfterName: 'Lost' });
  });

  it('continues the open visit through a process migration', () => {
    const migrated: OpportunityEvent = {
      type: 'ProcessMigrated',
      data: {
        opportunityId: 'opp-1',
        occurredAt: at(30),
        processId: 'standard',
        fromVersion: standard.version,
        toVersion: 'v-next',
        stageMapping: { qualification: 'discovery' },
        fromStage: 'qualification',
        toStage: 'discovery',
        criteriaKept: ['goals'],
      },
    };
    const steps = timelineOf(
      stored([e.opened(standard, 0), e.moved('new', 'qualification', 'forward', 10), e.met('qualification', 'goals', 12), e.met('qualification', 'pain-points', 13), migrated, e.moved('discovery', 'proposition', 'forward', 40)]),
      resolve,
    );
    expect(steps.map((step) => [step.kind, step.stageBefore, step.stageAfter, step.secondsInStageLeft, step.processVersion])).toEqual([
      ['opened', null, 'new', null, standard.version],
      ['moved', 'new', 'qualification', 600, standard.version],
      ['migrated', 'qualification', 'discovery', 1200, 'v-next'],
      // The visit began at minute 10, before the migration: 30 minutes in the stage.
      ['moved', 'discovery', 'proposition', 1800, 'v-next'],
    ]);
    expect(steps[2]!.fromVersion).toBe(standard.version);
    expect(steps[3]!.criteriaMet.map((item) => item.criterionId)).toEqual(['goals']);
    // An unknown version leaves names out rather than guessing.
    expect(steps[3]!.stageBeforeName).toBeNull();
  });

  it('gives each push or pull-in of the expected close date a step of its own, in the stage it was in, without ending the visit', () => {
    const rescheduled = (from: string | null, to: string | null, minute: number): OpportunityEvent => ({ type: 'ExpectedCloseDateChanged', data: { opportunityId: 'opp-1', occurredAt: at(minute), from, to } });
    const steps = timelineOf(
      stored([e.opened(standard, 0), e.moved('new', 'qualification', 'forward', 10), e.met('qualification', 'goals', 12), rescheduled(null, '2026-06-30', 13), rescheduled('2026-06-30', '2026-07-31', 14), e.lost('qualification', 'price', 20)]),
      resolve,
    );
    expect(steps.map((step) => [step.kind, step.stageBefore, step.stageAfter, step.expectedCloseDateBefore, step.expectedCloseDateAfter])).toEqual([
      ['opened', null, 'new', null, null],
      ['moved', 'new', 'qualification', null, null],
      ['expected-close-date-changed', 'qualification', 'qualification', null, '2026-06-30'],
      ['expected-close-date-changed', 'qualification', 'qualification', '2026-06-30', '2026-07-31'],
      ['lost', 'qualification', 'lost', null, null],
    ]);
    // The visit of Qualification runs from minute 10 to the loss, and its evidence survives the date steps.
    expect(steps[4]!.secondsInStageLeft).toBe(600);
    expect(steps[4]!.criteriaMet.map((item) => item.criterionId)).toEqual(['goals']);
    expect(steps[2]).toMatchObject({ stageAfterName: 'Qualification', secondsInStageLeft: null, criteriaMet: [] });
  });

  it('shows the next steps written on a win or a loss', () => {
    const lostWithSteps: OpportunityEvent = { type: 'OpportunityLost', data: { opportunityId: 'opp-1', occurredAt: at(5), stage: 'new', reason: 'timing', nextSteps: 'Call again in Q3' } };
    const steps = timelineOf(stored([e.opened(standard, 0), lostWithSteps, e.reopened('new', 8)]), resolve);
    expect(steps.map((step) => [step.kind, step.nextSteps])).toEqual([
      ['opened', null],
      ['lost', 'Call again in Q3'],
      ['reopened', null],
    ]);
  });
});
