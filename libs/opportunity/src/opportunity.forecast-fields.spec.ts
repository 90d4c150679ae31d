import { compileProcess, parseProcessDefinition } from '@stagecraft/sales-process';
import { calendarDateOf, parseCalendarDay } from './calendar-date';
import { foldOpportunity } from './opportunity.evolve';
import { deciderSpecification } from './testing/decider.specification';
import { at, command, events, OPPORTUNITY_ID, shippedProcess } from './testing/opportunity.fixtures';

// Expected close dates (issue 15): set on opening and on a details change, each change its own
// event with from/to; won reasons where the process lists them.

const standard = shippedProcess('standard');
const { opened, won } = events;
const stamp = (minute: number) => ({ opportunityId: OPPORTUNITY_ID, occurredAt: at(minute) });

describe('calendar dates', () => {
  it('reads real dates written YYYY-MM-DD as day numbers, and gives the same text back', () => {
    for (const text of ['1970-01-01', '2026-02-28', '2024-02-29', '2000-02-29', '9999-12-31', '2026-06-30']) {
      const day = parseCalendarDay(text);
      expect(day).toBeDefined();
      expect(calendarDateOf(day!)).toBe(text);
    }
    expect(parseCalendarDay('1970-01-02')).toBe(1);
  });

  it('refuses what is not a real date', () => {
    for (const text of ['2026-02-29', '2026-02-30', '2026-04-31', '2026-13-01', '2026-00-10', '2026-6-30', '2026-06-30T00:00:00Z', '30/06/2026', '', '1900-02-29', '0000-01-01']) {
      expect({ text, day: parseCalendarDay(text) }).toEqual({ text, day: undefined });
    }
    expect(parseCalendarDay(20260630)).toBeUndefined();
  });
});

describe('expected close date', () => {
  const spec = deciderSpecification(standard);

  it('is recorded on opening as its own event, from none to the date', () => {
    spec
      .given([])
      .when({ type: 'OpenOpportunity', ...command(), occurredAt: at(1), processId: 'standard', title: 'ACME renewal', expectedCloseDate: '2026-06-30' })
      .then([opened(standard, 1), { type: 'ExpectedCloseDateChanged', data: { ...stamp(1), from: null, to: '2026-06-30' } }]);
  });

  it('is pushed out or pulled in by a details change, recording where it was', () => {
    const given = [opened(standard, 0), { type: 'ExpectedCloseDateChanged' as const, data: { ...stamp(0), from: null, to: '2026-06-30' } }];
    spec.given(given).when({ type: 'ChangeOpportunityDetails', ...command(), occurredAt: at(5), expectedCloseDate: '2026-09-15' })
      .then([{ type: 'ExpectedCloseDateChanged', data: { ...stamp(5), from: '2026-06-30', to: '2026-09-15' } }]);
    spec.given(given).when({ type: 'ChangeOpportunityDetails', ...command(), occurredAt: at(5), expectedCloseDate: null })
      .then([{ type: 'ExpectedCloseDateChanged', data: { ...stamp(5), from: '2026-06-30', to: null } }]);
  });

  it('records nothing when the date is the one already set, and records other details beside it', () => {
    const given = [opened(standard, 0), { type: 'ExpectedCloseDateChanged' as const, data: { ...stamp(0), from: null, to: '2026-06-30' } }];
    spec.given(given).when({ type: 'ChangeOpportunityDetails', ...command(), expectedCloseDate: '2026-06-30' }).thenNothingHappens();
    spec.given([opened(standard, 0)]).when({ type: 'ChangeOpportunityDetails', ...command(), expectedCloseDate: null }).thenNothingHappens();
    spec.given([opened(standard, 0)]).when({ type: 'ChangeOpportunityDetails', ...command(), occurredAt: at(3), amount: 10, expectedCloseDate: '2026-07-01' })
      .then([
        { type: 'OpportunityDetailsChanged', data: { ...stamp(3), amount: 10 } },
        { type: 'ExpectedCloseDateChanged', data: { ...stamp(3), from: null, to: '2026-07-01' } },
      ]);
  });

  it('refuses a date that is not a real calendar date, on opening and on a change', () => {
    for (const bad of ['2026-02-30', '2026-06-30T10:00:00Z', 'next month']) {
      spec.given([]).when({ type: 'OpenOpportunity', ...command(), processId: 'standard', title: 'X', expectedCloseDate: bad }).thenRejects('OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE', { expectedCloseDate: bad });
      spec.given([opened(standard)]).when({ type: 'ChangeOpportunityDetails', ...command(), expectedCloseDate: bad }).thenRejects('OPPORTUNITY.INVALID_EXPECTED_CLOSE_DATE');
    }
  });

  it('is part of the state, until cleared', () => {
    const state = foldOpportunity([opened(standard, 0), { type: 'ExpectedCloseDateChanged', data: { ...stamp(1), from: null, to: '2026-06-30' } }]);
    expect(state).toMatchObject({ status: 'open', expectedCloseDate: '2026-06-30' });
    const cleared = foldOpportunity([opened(standard, 0), { type: 'ExpectedCloseDateChanged', data: { ...stamp(1), from: null, to: '2026-06-30' } }, { type: 'ExpectedCloseDateChanged', data: { ...stamp(2), from: '2026-06-30', to: null } }]);
    expect(cleared).not.toHaveProperty('expectedCloseDate');
  });
});

describe('won reasons', () => {
  const yaml = (extra: string) => `
id: quick
name: Quick
stages:
  - { id: talk, name: Talk, probability: 30, rotAfterDays: 7 }
  - { id: sign, name: Sign, probability: 90, exitCriteria: [{ id: signed, description: Signed }] }
rules: { winFrom: [talk, sign] }
lostReasons: [price]
${extra}`;
  const withReasons = compileProcess(parseProcessDefinition(yaml('wonReasons: [price, relationship]'), 'quick.yaml'));
  const withoutReasons = compileProcess(parseProcessDefinition(yaml(''), 'quick.yaml'));
  const inTalk = (process: typeof withReasons) => [opened(process, 0)];

  it('a win names one of the listed reasons, recorded on the event', () => {
    deciderSpecification(withReasons).given(inTalk(withReasons)).when({ type: 'WinOpportunity', ...command(), occurredAt: at(4), reason: 'relationship' })
      .then([{ type: 'OpportunityWon', data: { ...stamp(4), stage: 'talk', reason: 'relationship' } }]);
  });

  it('refuses a win without a reason, or with one the process does not list', () => {
    const spec = deciderSpecification(withReasons).given(inTalk(withReasons));
    spec.when({ type: 'WinOpportunity', ...command() }).thenRejects('OPPORTUNITY.WON_REASON_REQUIRED', { wonReasons: ['price', 'relationship'] });
    spec.when({ type: 'WinOpportunity', ...command(), reason: 'luck' }).thenRejects('OPPORTUNITY.INVALID_WON_REASON', { reason: 'luck', wonReasons: ['price', 'relationship'] });
  });

  it('where the process lists none, a win takes no reason', () => {
    const spec = deciderSpecification(withoutReasons).given(inTalk(withoutReasons));
    spec.when({ type: 'WinOpportunity', ...command(), occurredAt: at(4) }).then([won('talk', 4)]);
    spec.when({ type: 'WinOpportunity', ...command(), reason: 'price' }).thenRejects('OPPORTUNITY.INVALID_WON_REASON', { reason: 'price' });
  });

  it('exit criteria are judged before the reason', () => {
    const given = [opened(withReasons, 0), { type: 'StageChanged' as const, data: { ...stamp(1), from: 'talk', to: 'sign', direction: 'forward' as const } }];
    deciderSpecification(withReasons).given(given).when({ type: 'WinOpportunity', ...command(), reason: 'price' }).thenRejects('OPPORTUNITY.EXIT_CRITERIA_UNMET');
  });

  it('neither new field changes the version of a process that does not use it', () => {
    expect(withoutReasons.definition).not.toHaveProperty('wonReasons');
    expect(standard.definition.stages.every((stage) => !('rotAfterDays' in stage))).toBe(true);
    expect(withReasons.definition.stages[0]).toMatchObject({ rotAfterDays: 7 });
  });
});
