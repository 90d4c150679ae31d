import { timelineEntries } from './timeline.model';

const definition = {
  id: 'standard',
  name: 'Standard',
  stages: [
    { id: 'new', name: 'New', probability: 10, exitCriteria: [] },
    { id: 'qualification', name: 'Qualification', probability: 20, exitCriteria: [{ id: 'budget', description: 'There is a budget' }] },
  ],
  rules: { allowSkipping: false, allowBackward: true, winFrom: ['qualification'] },
  lostReasons: ['price'],
  teams: [],
};

const event = (revision: number, type: string, data: Record<string, unknown>, metadata: Record<string, unknown> = { actor: 'crm' }) => ({
  revision,
  position: revision + 10,
  type,
  data: { opportunityId: 'o', occurredAt: `2026-01-0${revision + 1}T09:00:00Z`, ...data },
  metadata,
});

describe('the timeline', () => {
  it('says when, who and what for every event, newest first, with stage names, criterion descriptions, field names and formatted money and days', () => {
    const entries = timelineEntries(
      {
        events: [
          event(0, 'OpportunityOpened', { stage: 'new', amount: 500, currency: 'EUR' }),
          event(1, 'StageChanged', { from: 'new', to: 'qualification', direction: 'forward' }, { actor: 'crm', onBehalfOf: 'ana' }),
          event(2, 'ExitCriterionMet', { stage: 'qualification', criterionId: 'budget', note: 'CFO said yes' }),
          event(3, 'StageChanged', { from: 'qualification', to: 'new', direction: 'backward' }),
          event(4, 'OpportunityLost', { stage: 'new', reason: 'price' }),
          event(5, 'OpportunityDetailsChanged', { amount: 700 }),
          event(6, 'OpportunityDetailsChanged', { ownerId: 'ana', title: 'ACME 2027' }),
          event(7, 'ExpectedCloseDateChanged', { from: null, to: '2026-12-01' }),
        ],
      },
      definition,
    );
    expect(entries.map(({ when, who, what, note }) => [when, who, what, note])).toEqual([
      ['2026-01-08T09:00:00Z', 'crm', 'Expected to close on 1 Dec 2026', null],
      ['2026-01-07T09:00:00Z', 'crm', 'Owner: \u2068ana\u2069 · Title: \u2068ACME 2027\u2069', null],
      ['2026-01-06T09:00:00Z', 'crm', 'Amount: €700', null],
      ['2026-01-05T09:00:00Z', 'crm', 'Lost in \u2068New\u2069: \u2068price\u2069', null],
      ['2026-01-04T09:00:00Z', 'crm', 'Moved back from \u2068Qualification\u2069 to \u2068New\u2069', null],
      ['2026-01-03T09:00:00Z', 'crm', 'Met: \u2068There is a budget\u2069', 'CFO said yes'],
      ['2026-01-02T09:00:00Z', '\u2068ana\u2069 (via \u2068crm\u2069)', 'Moved from \u2068New\u2069 to \u2068Qualification\u2069', null],
      ['2026-01-01T09:00:00Z', 'crm', 'Opened in \u2068New\u2069 at €500', null],
    ]);
  });

  it('on a page of the latest events (not from the opening), shows amounts in the deal\'s currency now when the page changes none, and from the first change on when it does', () => {
    const what = (events: ReturnType<typeof event>[]) => timelineEntries({ events }, definition, 'USD').map((entry) => entry.what);
    expect(what([event(5, 'OpportunityDetailsChanged', { amount: 700 }), event(6, 'OpportunityDetailsChanged', { amount: 900 })])).toEqual(['Amount: $900', 'Amount: $700']);
    const changing = what([event(5, 'OpportunityDetailsChanged', { amount: 700 }), event(6, 'OpportunityDetailsChanged', { amount: 900, currency: 'USD' })]);
    expect(changing[0]).toBe('Amount: $900 · Currency: USD');
    expect(changing[1]).not.toMatch(/\$/); // before the page's change: the currency then is not known, none is claimed
    // From the opening, the page follows its own events, whatever the deal's currency now.
    expect(timelineEntries({ events: [event(0, 'OpportunityOpened', { stage: 'new', amount: 500, currency: 'EUR' })] }, definition, 'USD')[0]!.what).toBe('Opened in \u2068New\u2069 at €500');
  });

  it('words a deal moved to a newer version of its process in a rep\'s words, never the event\'s type', () => {
    const migrated = (fromStage: string, toStage: string) =>
      timelineEntries({ events: [event(3, 'ProcessMigrated', { processId: 'standard', fromVersion: 'a1', toVersion: 'b2', stageMapping: { intro: 'new' }, fromStage, toStage, criteriaKept: [] })] }, definition)[0]!.what;
    expect(migrated('qualification', 'qualification')).toBe('Put on a new version of the process: still in \u2068Qualification\u2069');
    // A stage of the old version only: by its id, the one name the deal's version now has no word for.
    expect(migrated('intro', 'new')).toBe('Put on a new version of the process: from \u2068intro\u2069 to \u2068New\u2069');
  });

  it('words the expected close date moving and the next steps written on a closing', () => {
    const entries = timelineEntries(
      {
        events: [
          event(0, 'ExpectedCloseDateChanged', { from: null, to: '2026-06-30' }),
          event(1, 'ExpectedCloseDateChanged', { from: '2026-06-30', to: '2026-07-31' }),
          event(2, 'ExpectedCloseDateChanged', { from: '2026-07-31', to: null }),
          event(3, 'OpportunityWon', { stage: 'qualification', nextSteps: 'Kick-off call on Monday' }),
          event(4, 'OpportunityLost', { stage: 'new', reason: 'price', nextSteps: 'Call again in Q3' }),
        ],
      },
      definition,
    );
    // Newest first, dates as people read them.
    expect(entries.map(({ what }) => what)).toEqual([
      'Lost in \u2068New\u2069: \u2068price\u2069 — next steps: \u2068Call again in Q3\u2069',
      'Won in \u2068Qualification\u2069 — next steps: \u2068Kick-off call on Monday\u2069',
      'Expected close date cleared (was 31 Jul 2026)',
      'Expected to close on 31 Jul 2026 (was 30 Jun 2026)',
      'Expected to close on 30 Jun 2026',
    ]);
  });

  it('isolates what people wrote in its sentence (U+2068 … U+2069): a right-to-left title, reason or next steps keeps its own order without reordering the words around it', () => {
    const entries = timelineEntries(
      {
        events: [
          event(0, 'OpportunityDetailsChanged', { title: 'صفقة أكمي', ownerId: 'דנה' }),
          event(1, 'OpportunityWon', { stage: 'qualification', reason: 'מחיר', nextSteps: 'اتصل يوم الاثنين' }),
        ],
      },
      definition,
    );
    expect(entries.map(({ what }) => what)).toEqual(['Won in \u2068Qualification\u2069: \u2068מחיר\u2069 — next steps: \u2068اتصل يوم الاثنين\u2069', 'Title: \u2068صفقة أكمي\u2069 · Owner: \u2068דנה\u2069']);
  });

  it('isolates a stage name or criterion description in its sentence: a right-to-left stage does not carry "from", "to" and the other stage into its order', () => {
    const hebrew = { ...definition, stages: [{ ...definition.stages[0]!, name: 'חדש' }, { ...definition.stages[1]!, name: 'הכשרה', exitCriteria: [{ id: 'budget', description: 'יש תקציב' }] }] };
    const entries = timelineEntries({ events: [event(0, 'StageChanged', { from: 'new', to: 'qualification', direction: 'forward' }), event(1, 'ExitCriterionMet', { stage: 'qualification', criterionId: 'budget' })] }, hebrew);
    expect(entries.map(({ what }) => what)).toEqual(['Met: \u2068יש תקציב\u2069', 'Moved from \u2068חדש\u2069 to \u2068הכשרה\u2069']);
  });
});
