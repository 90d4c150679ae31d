import { deciderSpecification } from './testing/decider.specification';
import { allMet, at, command, events, OPPORTUNITY_ID, shippedProcess } from './testing/opportunity.fixtures';

const standard = shippedProcess('standard');
const insideSales = shippedProcess('inside-sales');
const { opened, met, revoked, moved, won, lost, reopened } = events;

describe('decide, on the seed process (standard)', () => {
  const spec = deciderSpecification(standard);
  const inQualification = [opened(standard, 0), moved('new', 'qualification', 'forward', 1)];
  const inNegotiation = [
    ...inQualification,
    ...allMet(standard, 'qualification', 2),
    moved('qualification', 'proposition', 'forward', 10),
    ...allMet(standard, 'proposition', 11),
    moved('proposition', 'negotiation', 'forward', 20),
  ];

  describe('opening', () => {
    it('opens in the first stage with the process version it will keep', () => {
      spec
        .given([])
        .when({ type: 'OpenOpportunity', ...command(), processId: 'standard', title: 'ACME renewal', teamId: 'direct', amount: 12000, currency: 'EUR' })
        .then([
          {
            type: 'OpportunityOpened',
            data: {
              opportunityId: OPPORTUNITY_ID,
              occurredAt: at(59),
              processId: 'standard',
              processVersion: standard.version,
              stage: 'new',
              title: 'ACME renewal',
              teamId: 'direct',
              amount: 12000,
              currency: 'EUR',
            },
          },
        ]);
    });

    it('keeps a backfilled business time', () => {
      spec.given([]).when({ type: 'OpenOpportunity', ...command(), occurredAt: '2026-03-01T08:00:00+01:00', processId: 'standard', title: 'Old deal' })
        .then([opened(standard, 0, { title: 'Old deal', occurredAt: '2026-03-01T07:00:00.000Z' })]);
    });

    it('refuses an id that is already open', () => {
      spec.given([opened(standard)]).when({ type: 'OpenOpportunity', ...command(), processId: 'standard', title: 'Again' }).thenRejects('OPPORTUNITY.ALREADY_OPENED');
    });

    it('refuses a team that does not run the process', () => {
      spec
        .given([])
        .when({ type: 'OpenOpportunity', ...command(), processId: 'standard', title: 'X', teamId: 'inside' })
        .thenRejects('OPPORTUNITY.UNKNOWN_TEAM', { teamId: 'inside', teams: ['direct', 'partners'] });
    });

    it('refuses text no read model can keep (U+0000, an unpaired surrogate), naming the field', () => {
      spec.given([]).when({ type: 'OpenOpportunity', ...command(), processId: 'standard', title: 'ACME\u0000' }).thenRejects('OPPORTUNITY.INVALID_TEXT', { field: 'title' });
      spec.given([]).when({ type: 'OpenOpportunity', ...command(), processId: 'standard', title: 'ok', ownerId: 'ann\ud800' }).thenRejects('OPPORTUNITY.INVALID_TEXT', { field: 'ownerId' });
      spec.given([opened(standard)]).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'qualification', note: 'half \udc00' }).thenRejects('OPPORTUNITY.INVALID_TEXT', { field: 'note' });
    });

    it('refuses a negative or non-finite amount', () => {
      spec.given([]).when({ type: 'OpenOpportunity', ...command(), processId: 'standard', title: 'X', amount: -1 }).thenRejects('OPPORTUNITY.INVALID_AMOUNT');
      spec.given([]).when({ type: 'OpenOpportunity', ...command(), processId: 'standard', title: 'X', amount: Infinity }).thenRejects('OPPORTUNITY.INVALID_AMOUNT');
    });
  });

  describe('business time', () => {
    it('refuses an occurredAt in the future', () => {
      spec.given([]).when({ type: 'OpenOpportunity', ...command(30), occurredAt: at(31), processId: 'standard', title: 'X' }).thenRejects('OPPORTUNITY.OCCURRED_AT_IN_FUTURE');
    });

    it('refuses an occurredAt before the stream\'s latest event', () => {
      spec.given(inQualification).when({ type: 'MeetExitCriterion', ...command(), occurredAt: at(0), criterionId: 'goals' })
        .thenRejects('OPPORTUNITY.OCCURRED_AT_BEFORE_LAST_EVENT', { lastOccurredAt: at(1) });
    });

    it('refuses an occurredAt that is not an ISO 8601 instant with a zone', () => {
      for (const occurredAt of ['yesterday', '2026-03-01', '2026-03-01T09:00:00', '2026-13-01T09:00:00Z']) {
        spec.given(inQualification).when({ type: 'MeetExitCriterion', ...command(), occurredAt, criterionId: 'goals' }).thenRejects('OPPORTUNITY.INVALID_OCCURRED_AT');
      }
    });

    it('refuses an occurredAt outside years 0001–9999, which no read model could store', () => {
      for (const occurredAt of ['0000-06-01T00:00:00Z', '0001-01-01T00:00:00+01:00']) {
        spec.given([]).when({ type: 'OpenOpportunity', ...command(), occurredAt, processId: 'standard', title: 'X' }).thenRejects('OPPORTUNITY.INVALID_OCCURRED_AT');
      }
    });

    it('still keeps history in order after a time stored before instants were bounded', () => {
      const ancient = '-000001-12-31T23:00:00.000Z';
      spec.given([opened(standard, 0, { occurredAt: ancient })]).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'qualification' })
        .then([moved('new', 'qualification', 'forward', 59)]);
    });

    it('never records server time earlier than the latest event, even if the clock stepped back', () => {
      spec.given([opened(standard, 40)]).when({ type: 'MoveOpportunityToStage', ...command(30), stage: 'qualification' })
        .then([{ type: 'StageChanged', data: { opportunityId: OPPORTUNITY_ID, occurredAt: at(40), from: 'new', to: 'qualification', direction: 'forward' } }]);
    });
  });

  it('refuses any command on an opportunity that was never opened', () => {
    spec.given([]).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'qualification' }).thenRejects('OPPORTUNITY.NOT_FOUND');
    spec.given([]).when({ type: 'WinOpportunity', ...command() }).thenRejects('OPPORTUNITY.NOT_FOUND');
  });

  describe('exit criteria', () => {
    it('records a criterion of the current stage as met, with its note', () => {
      spec.given(inQualification).when({ type: 'MeetExitCriterion', ...command(), occurredAt: at(5), criterionId: 'budget-confirmed', note: 'Budget 50k approved' })
        .then([{ type: 'ExitCriterionMet', data: { opportunityId: OPPORTUNITY_ID, occurredAt: at(5), stage: 'qualification', criterionId: 'budget-confirmed', note: 'Budget 50k approved' } }]);
    });

    it('does nothing when the criterion is already met', () => {
      spec.given([...inQualification, met('qualification', 'goals', 2)]).when({ type: 'MeetExitCriterion', ...command(), criterionId: 'goals' }).thenNothingHappens();
    });

    it('refuses a criterion the current stage does not have, listing the ones it has', () => {
      spec.given(inQualification).when({ type: 'MeetExitCriterion', ...command(), criterionId: 'pricing-agreed' })
        .thenRejects('OPPORTUNITY.UNKNOWN_CRITERION', { stage: 'qualification', knownCriteria: ['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker'] });
      spec.given([opened(standard)]).when({ type: 'MeetExitCriterion', ...command(), criterionId: 'goals' }).thenRejects('OPPORTUNITY.UNKNOWN_CRITERION', { knownCriteria: [] });
    });

    it('revokes a met criterion, and does nothing for one that is not met', () => {
      spec.given([...inQualification, met('qualification', 'goals', 2)]).when({ type: 'RevokeExitCriterion', ...command(), occurredAt: at(3), criterionId: 'goals' })
        .then([revoked('qualification', 'goals', 3)]);
      spec.given(inQualification).when({ type: 'RevokeExitCriterion', ...command(), criterionId: 'goals' }).thenNothingHappens();
      spec.given(inQualification).when({ type: 'RevokeExitCriterion', ...command(), criterionId: 'nope' }).thenRejects('OPPORTUNITY.UNKNOWN_CRITERION');
    });
  });

  describe('moving between stages', () => {
    it('moves forward to the next stage when the current stage has no exit criteria', () => {
      spec.given([opened(standard)]).when({ type: 'MoveOpportunityToStage', ...command(), occurredAt: at(1), stage: 'qualification' })
        .then([moved('new', 'qualification', 'forward', 1)]);
    });

    it('refuses to leave Qualification until its 5 expected results are met, listing each', () => {
      spec.given(inQualification).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'proposition' })
        .thenRejects('OPPORTUNITY.EXIT_CRITERIA_UNMET', {
          stage: 'qualification',
          unmetCriteria: standard.stage('qualification')!.exitCriteria.map(({ id, description }) => ({ id, description })),
        });
    });

    it('lists only the criteria still unmet', () => {
      const fourMet = allMet(standard, 'qualification', 2).slice(0, 4);
      spec.given([...inQualification, ...fourMet]).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'proposition' })
        .thenRejects('OPPORTUNITY.EXIT_CRITERIA_UNMET', { unmetCriteria: [{ id: 'decision-maker', description: 'The decision-maker is identified' }] });
    });

    it('counts a revoked criterion as unmet', () => {
      spec.given([...inQualification, ...allMet(standard, 'qualification', 2), revoked('qualification', 'goals', 8)])
        .when({ type: 'MoveOpportunityToStage', ...command(), stage: 'proposition' })
        .thenRejects('OPPORTUNITY.EXIT_CRITERIA_UNMET', { unmetCriteria: [{ id: 'goals' }] });
    });

    it('moves on once every exit criterion is met', () => {
      spec.given([...inQualification, ...allMet(standard, 'qualification', 2)]).when({ type: 'MoveOpportunityToStage', ...command(), occurredAt: at(9), stage: 'proposition' })
        .then([moved('qualification', 'proposition', 'forward', 9)]);
    });

    it('refuses to skip a stage, naming the next one', () => {
      spec.given([opened(standard)]).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'proposition' })
        .thenRejects('OPPORTUNITY.SKIP_NOT_ALLOWED', { from: 'new', to: 'proposition', nextStage: 'qualification' });
    });

    it('moves back to any earlier stage without criteria', () => {
      spec.given(inNegotiation).when({ type: 'MoveOpportunityToStage', ...command(), occurredAt: at(30), stage: 'new' })
        .then([moved('negotiation', 'new', 'backward', 30)]);
    });

    it('counts criteria per stage visit: after a return, they must be met again', () => {
      const backAndReturn = [
        ...inQualification,
        ...allMet(standard, 'qualification', 2),
        moved('qualification', 'proposition', 'forward', 10),
        moved('proposition', 'qualification', 'backward', 11),
      ];
      spec.given(backAndReturn).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'proposition' })
        .thenRejects('OPPORTUNITY.EXIT_CRITERIA_UNMET', { unmetCriteria: expect.arrayContaining([{ id: 'need-confirmed', description: expect.any(String) }]) });
    });

    it('refuses a stage the process does not have, and the stage it is already in', () => {
      spec.given([opened(standard)]).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'won' }).thenRejects('OPPORTUNITY.UNKNOWN_STAGE', { knownStages: ['new', 'qualification', 'proposition', 'negotiation'] });
      spec.given([opened(standard)]).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'new' }).thenRejects('OPPORTUNITY.ALREADY_IN_STAGE');
    });
  });

  describe('winning and losing', () => {
    it('wins from Negotiation once its results are met, carrying the amount', () => {
      spec.given([...inNegotiation.map((e, i) => (i === 0 ? opened(standard, 0, { amount: 5000 }) : e)), ...allMet(standard, 'negotiation', 21)])
        .when({ type: 'WinOpportunity', ...command(), occurredAt: at(30), note: 'Signed' })
        .then([{ type: 'OpportunityWon', data: { opportunityId: OPPORTUNITY_ID, occurredAt: at(30), stage: 'negotiation', amount: 5000, note: 'Signed' } }]);
    });

    it('refuses to win from a stage outside winFrom', () => {
      spec.given(inQualification).when({ type: 'WinOpportunity', ...command() }).thenRejects('OPPORTUNITY.NOT_WINNABLE_FROM_STAGE', { stage: 'qualification', winFrom: ['negotiation'] });
    });

    it('refuses to win from a stage outside winFrom even with every exit criterion of that stage met: winFrom alone refuses', () => {
      const qualificationDone = [...inQualification, ...allMet(standard, 'qualification', 2)];
      // The same history may move on: the criteria are what they should be, only winFrom is in the way.
      spec.given(qualificationDone).when({ type: 'MoveOpportunityToStage', ...command(), occurredAt: at(10), stage: 'proposition' })
        .then([moved('qualification', 'proposition', 'forward', 10)]);
      spec.given(qualificationDone).when({ type: 'WinOpportunity', ...command() })
        .thenRejects('OPPORTUNITY.NOT_WINNABLE_FROM_STAGE', { stage: 'qualification', winFrom: ['negotiation'], rule: 'winFrom' });
    });

    it('refuses to win while the stage\'s exit criteria are unmet', () => {
      spec.given(inNegotiation).when({ type: 'WinOpportunity', ...command() }).thenRejects('OPPORTUNITY.EXIT_CRITERIA_UNMET', { stage: 'negotiation' });
    });

    it('loses from any stage with a reason of the process', () => {
      spec.given(inQualification).when({ type: 'LoseOpportunity', ...command(), occurredAt: at(5), reason: 'no-budget' }).then([lost('qualification', 'no-budget', 5)]);
    });

    it('records the next steps written on a win, as written', () => {
      spec.given([...inNegotiation, ...allMet(standard, 'negotiation', 21)])
        .when({ type: 'WinOpportunity', ...command(), occurredAt: at(30), nextSteps: 'Kick-off call on Monday' })
        .then([{ type: 'OpportunityWon', data: { opportunityId: OPPORTUNITY_ID, occurredAt: at(30), stage: 'negotiation', nextSteps: 'Kick-off call on Monday' } }]);
    });

    it('records the next steps written on a loss, beside its reason', () => {
      spec.given(inQualification).when({ type: 'LoseOpportunity', ...command(), occurredAt: at(5), reason: 'timing', nextSteps: 'Call again in Q3' })
        .then([{ type: 'OpportunityLost', data: { opportunityId: OPPORTUNITY_ID, occurredAt: at(5), stage: 'qualification', reason: 'timing', nextSteps: 'Call again in Q3' } }]);
    });

    it('records no next steps when none are written', () => {
      spec.given(inQualification).when({ type: 'LoseOpportunity', ...command(), occurredAt: at(5), reason: 'timing' }).then([lost('qualification', 'timing', 5)]);
    });

    it('refuses next steps on a win the rules refuse: writing them does not make a deal winnable', () => {
      spec.given(inNegotiation).when({ type: 'WinOpportunity', ...command(), nextSteps: 'Kick-off' }).thenRejects('OPPORTUNITY.EXIT_CRITERIA_UNMET', { stage: 'negotiation' });
    });

    it('refuses a lost reason the process does not list', () => {
      spec.given(inQualification).when({ type: 'LoseOpportunity', ...command(), reason: 'bad-luck' })
        .thenRejects('OPPORTUNITY.INVALID_LOST_REASON', { lostReasons: ['price', 'competitor', 'no-budget', 'no-decision', 'timing', 'other'] });
    });
  });

  describe('closed opportunities', () => {
    const wonDeal = [...inNegotiation, ...allMet(standard, 'negotiation', 21), won('negotiation', 30)];
    const lostDeal = [...inQualification, lost('qualification', 'price', 5)];

    it('accept nothing but reopen', () => {
      spec.given(wonDeal).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'new' }).thenRejects('OPPORTUNITY.ALREADY_CLOSED', { opportunityStatus: 'won' });
      spec.given(wonDeal).when({ type: 'WinOpportunity', ...command() }).thenRejects('OPPORTUNITY.ALREADY_CLOSED');
      spec.given(lostDeal).when({ type: 'LoseOpportunity', ...command(), reason: 'price' }).thenRejects('OPPORTUNITY.ALREADY_CLOSED', { opportunityStatus: 'lost' });
      spec.given(lostDeal).when({ type: 'MeetExitCriterion', ...command(), criterionId: 'goals' }).thenRejects('OPPORTUNITY.ALREADY_CLOSED');
      spec.given(lostDeal).when({ type: 'ChangeOpportunityDetails', ...command(), amount: 1 }).thenRejects('OPPORTUNITY.ALREADY_CLOSED');
    });

    it('reopen in the stage they were closed in, or a stage given', () => {
      spec.given(lostDeal).when({ type: 'ReopenOpportunity', ...command(), occurredAt: at(40) }).then([reopened('qualification', 40)]);
      spec.given(wonDeal).when({ type: 'ReopenOpportunity', ...command(), occurredAt: at(40), stage: 'proposition' }).then([reopened('proposition', 40)]);
    });

    it('start a fresh visit when reopened: criteria must be met again', () => {
      spec.given([...lostDeal, reopened('qualification', 40)]).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'proposition' })
        .thenRejects('OPPORTUNITY.EXIT_CRITERIA_UNMET');
    });

    it('refuse a reopen to an unknown stage, and a reopen of an open opportunity', () => {
      spec.given(lostDeal).when({ type: 'ReopenOpportunity', ...command(), stage: 'limbo' }).thenRejects('OPPORTUNITY.UNKNOWN_STAGE');
      spec.given(inQualification).when({ type: 'ReopenOpportunity', ...command() }).thenRejects('OPPORTUNITY.NOT_CLOSED', { stage: 'qualification' });
    });
  });

  describe('details', () => {
    it('records only the fields that change', () => {
      spec.given([opened(standard, 0, { amount: 100, ownerId: 'ana' })])
        .when({ type: 'ChangeOpportunityDetails', ...command(), occurredAt: at(3), amount: 250, ownerId: 'ana', title: 'ACME renewal' })
        .then([{ type: 'OpportunityDetailsChanged', data: { opportunityId: OPPORTUNITY_ID, occurredAt: at(3), amount: 250 } }]);
    });

    it('does nothing when nothing differs, and checks teams and amounts like opening does', () => {
      spec.given([opened(standard, 0, { ownerId: 'ana' })]).when({ type: 'ChangeOpportunityDetails', ...command(), ownerId: 'ana' }).thenNothingHappens();
      spec.given([opened(standard)]).when({ type: 'ChangeOpportunityDetails', ...command(), teamId: 'nobody' }).thenRejects('OPPORTUNITY.UNKNOWN_TEAM');
      spec.given([opened(standard)]).when({ type: 'ChangeOpportunityDetails', ...command(), amount: -5 }).thenRejects('OPPORTUNITY.INVALID_AMOUNT');
    });
  });
});

describe('decide, on the inside-sales process (skipping allowed, no going back)', () => {
  const spec = deciderSpecification(insideSales);
  const contacted = [opened(insideSales, 0), met('lead', 'contact-made', 1)];

  it('skips straight to Closing once the current stage\'s results are met', () => {
    spec.given(contacted).when({ type: 'MoveOpportunityToStage', ...command(), occurredAt: at(2), stage: 'closing' }).then([moved('lead', 'closing', 'forward', 2)]);
  });

  it('still requires the stage being left to be done before skipping', () => {
    spec.given([opened(insideSales)]).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'closing' })
      .thenRejects('OPPORTUNITY.EXIT_CRITERIA_UNMET', { stage: 'lead', unmetCriteria: [{ id: 'contact-made', description: 'A conversation with the prospect took place' }] });
  });

  it('refuses to move back', () => {
    spec.given([...contacted, moved('lead', 'quote', 'forward', 2)]).when({ type: 'MoveOpportunityToStage', ...command(), stage: 'lead' })
      .thenRejects('OPPORTUNITY.BACKWARD_NOT_ALLOWED', { from: 'quote', to: 'lead', rule: 'allowBackward' });
  });

  it('wins from Quote, one of its two winFrom stages', () => {
    spec.given([...contacted, moved('lead', 'quote', 'forward', 2), met('quote', 'quote-sent', 3)]).when({ type: 'WinOpportunity', ...command(), occurredAt: at(4) })
      .then([won('quote', 4)]);
  });

  it('refuses to win from Lead', () => {
    spec.given(contacted).when({ type: 'WinOpportunity', ...command() }).thenRejects('OPPORTUNITY.NOT_WINNABLE_FROM_STAGE', { winFrom: ['quote', 'closing'] });
  });

  it('has its own lost reasons and teams', () => {
    spec.given(contacted).when({ type: 'LoseOpportunity', ...command(), occurredAt: at(5), reason: 'no-response' }).then([lost('lead', 'no-response', 5)]);
    spec.given(contacted).when({ type: 'LoseOpportunity', ...command(), reason: 'timing' }).thenRejects('OPPORTUNITY.INVALID_LOST_REASON');
    spec.given([]).when({ type: 'OpenOpportunity', ...command(), processId: 'inside-sales', title: 'X', teamId: 'direct' }).thenRejects('OPPORTUNITY.UNKNOWN_TEAM');
  });
});
