import { firstEventDifference } from './event-difference';
import type { OpportunityEvent } from './opportunity.events';

const ID = '5a0e2c4d-1b3f-4e5a-8c7d-9e0f1a2b3c4d';
const moved = (data: Record<string, unknown> = {}): OpportunityEvent =>
  ({ type: 'StageChanged', data: { opportunityId: ID, occurredAt: '2026-01-03T09:00:00.000Z', from: 'new', to: 'qualification', direction: 'forward', ...data } }) as OpportunityEvent;
const migrated = (data: Record<string, unknown> = {}): OpportunityEvent =>
  ({
    type: 'ProcessMigrated',
    data: { opportunityId: ID, occurredAt: '2026-01-03T09:00:00.000Z', processId: 'standard', fromVersion: 'a', toVersion: 'b', stageMapping: { x: 'y', p: 'q' }, fromStage: 'x', toStage: 'y', criteriaKept: ['c1', 'c2'], ...data },
  }) as OpportunityEvent;

describe('firstEventDifference: the same facts, or the first field where they differ', () => {
  it('the same events are the same, key order aside', () => {
    const { data } = migrated();
    const reordered = Object.fromEntries(Object.entries({ ...data, stageMapping: { p: 'q', x: 'y' } }).reverse());
    expect(firstEventDifference([{ type: 'ProcessMigrated', data: reordered }], [migrated()])).toBeUndefined();
  });

  it('names the first field that differs, in the expected event\'s order, then a field it lacks', () => {
    expect(firstEventDifference([moved({ from: 'proposition', direction: 'backward' })], [moved()])).toEqual({ index: 0, field: 'data.from', expected: 'proposition', decided: 'new' });
    expect(firstEventDifference([migrated({ criteriaKept: ['c1'] })], [migrated()])).toEqual({ index: 0, field: 'data.criteriaKept', expected: ['c1'], decided: ['c1', 'c2'] });
    expect(firstEventDifference([migrated({ stageMapping: { x: 'y' } })], [migrated()])).toMatchObject({ field: 'data.stageMapping' });
    const { direction: _direction, ...withoutDirection } = moved().data as Record<string, unknown>;
    expect(firstEventDifference([{ type: 'StageChanged', data: withoutDirection }], [moved()])).toEqual({ index: 0, field: 'data.direction', expected: undefined, decided: 'forward' });
    expect(firstEventDifference([moved({ evidence: 'memo' })], [moved()])).toEqual({ index: 0, field: 'data.evidence', expected: 'memo', decided: undefined });
    // A number is not its text, nor null a missing field.
    expect(firstEventDifference([moved({ to: 1 })], [moved({ to: '1' })])).toMatchObject({ field: 'data.to' });
    expect(firstEventDifference([moved({ note: null })], [moved()])).toMatchObject({ field: 'data.note', expected: null, decided: undefined });
  });

  it('another type, or another number of events', () => {
    expect(firstEventDifference([{ type: 'ExitCriterionMet', data: moved().data }], [moved()])).toEqual({ index: 0, field: 'type', expected: 'ExitCriterionMet', decided: 'StageChanged' });
    expect(firstEventDifference([moved()], [])).toEqual({ index: 0, field: 'type', expected: 'StageChanged', decided: undefined });
    expect(firstEventDifference([moved()], [moved(), moved()])).toEqual({ index: 1, field: 'type', expected: undefined, decided: 'StageChanged' });
  });

  it('the deal\'s id and the business time are compared as what they name', () => {
    expect(firstEventDifference([moved({ opportunityId: ID.toUpperCase(), occurredAt: '2026-01-03T10:00+01:00' })], [moved()])).toBeUndefined();
    expect(firstEventDifference([moved({ occurredAt: '2026-01-03T09:00:01Z' })], [moved()])).toMatchObject({ field: 'data.occurredAt' });
    expect(firstEventDifference([moved({ occurredAt: 'soon' })], [moved()])).toMatchObject({ field: 'data.occurredAt', expected: 'soon' });
    expect(firstEventDifference([moved({ opportunityId: '5a0e2c4d-1b3f-4e5a-8c7d-9e0f1a2b3c4e' })], [moved()])).toMatchObject({ field: 'data.opportunityId' });
  });
});
