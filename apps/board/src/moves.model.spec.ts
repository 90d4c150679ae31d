import type { ProcessDetail } from '@stagecraft/contracts';
import type { BoardColumn } from './board.model';
import { allowedTargets, detailForCard, goneText, inWords, isGone, moveChoices, otherVersions, reopenable } from './moves.model';

const definition: ProcessDetail['definition'] = {
  id: 'standard',
  name: 'Standard',
  stages: [
    { id: 'new', name: 'New', probability: 10, exitCriteria: [] },
    { id: 'proposition', name: 'Proposition', probability: 50, exitCriteria: [{ id: 'proposal-given', description: 'Demo and/or proposal given' }] },
    { id: 'negotiation', name: 'Negotiation', probability: 80, exitCriteria: [] },
  ],
  rules: { allowSkipping: false, allowBackward: true, winFrom: ['negotiation'] },
  lostReasons: ['price'],
  teams: [],
};
// As GET /processes/standard answers it for the proposition stage.
const moves: ProcessDetail['moves'] = [
  {
    from: 'proposition',
    options: [
      { to: 'new', allowed: true, requiredCriteria: [] },
      { to: 'negotiation', allowed: true, requiredCriteria: ['proposal-given'] },
      {
        to: 'won',
        allowed: false,
        requiredCriteria: [],
        refusal: { rule: 'winFrom', code: 'OPPORTUNITY.NOT_WINNABLE_FROM_STAGE', message: 'An opportunity cannot be won from stage "proposition"; this process allows winning from "negotiation".' },
      },
      { to: 'lost', allowed: true, requiredCriteria: [] },
    ],
  },
];
const column = (key: string, kind: 'stage' | 'won' | 'lost', name: string): BoardColumn => ({
  key,
  target: kind === 'stage' ? { kind, stageId: key, name } : { kind, name },
  name,
  probability: null,
  count: 0,
  amount: '',
  weightedAmount: null,
  converted: null,
  rotting: 0,
  cards: [],
  caption: null,
  more: null,
  omitted: 0,
  capped: false,
});
const columns = [column('new', 'stage', 'New'), column('proposition', 'stage', 'Proposition'), column('negotiation', 'stage', 'Negotiation'), column('won', 'won', 'Won'), column('lost', 'lost', 'Lost')];

describe('the moves a card is offered', () => {
  it('an open card: the other columns, each allowed or refused as the process\'s move table says, with the reason in stage names', () => {
    const choices = moveChoices(columns, { stageId: 'proposition', status: 'open' }, { definition, moves });
    expect(choices.map((choice) => [choice.target.name, choice.allowed, choice.reason])).toEqual([
      ['New', true, null],
      ['Negotiation', true, null],
      ['Won', false, 'An opportunity cannot be won from stage \u2068Proposition\u2069; this process allows winning from \u2068Negotiation\u2069.'],
      ['Lost', true, null],
    ]);
    expect(allowedTargets(choices).map((target) => target.name)).toEqual(['New', 'Negotiation', 'Lost']);
  });

  it('a card on another process version is offered its own version\'s moves, not the current version\'s', () => {
    // The card's version allowed no moving back, and winning from Proposition: its table, not the current one.
    const older: ProcessDetail['moves'] = [
      {
        from: 'proposition',
        options: [
          { to: 'new', allowed: false, requiredCriteria: [], refusal: { rule: 'allowBackward', code: 'OPPORTUNITY.BACKWARD_NOT_ALLOWED', message: 'Moving back from "proposition" to "new" is not allowed in this process.' } },
          { to: 'negotiation', allowed: true, requiredCriteria: ['proposal-given'] },
          { to: 'won', allowed: true, requiredCriteria: ['proposal-given'] },
          { to: 'lost', allowed: true, requiredCriteria: [] },
        ],
      },
    ];
    const current = { definition, moves, version: 'v2' };
    const card = { stageId: 'proposition', status: 'open' as const, processVersion: 'v1' };
    const choices = moveChoices(columns, card, detailForCard(current, new Map([['v1', { definition, moves: older }]]), card));
    expect(allowedTargets(choices).map((target) => target.name)).toEqual(['Negotiation', 'Won', 'Lost']);
    expect(choices[0]!.reason).toBe('Moving back from \u2068Proposition\u2069 to \u2068New\u2069 is not allowed in this process.');
    // On the current version, or not saying: the current table. A version whose moves are unknown: left to the API, not judged by the current rules.
    expect(detailForCard(current, new Map(), { processVersion: 'v2' })).toBe(current);
    expect(detailForCard(current, new Map(), { processVersion: null })).toBe(current);
    expect(allowedTargets(moveChoices(columns, card, detailForCard(current, new Map(), card))).map((target) => target.name)).toEqual(['New', 'Negotiation', 'Won', 'Lost']);
    expect(otherVersions([{ ...columns[1]!, cards: [{ ...card, processVersion: 'v1' }, { ...card, processVersion: 'v2' }, { ...card, processVersion: 'v1' }] as never }], 'v2')).toEqual(['v1']);
    // Its stages are named as its version names them too: the panel, its timeline and its refusals say those.
    const renamed = { ...definition, stages: definition.stages.map((stage) => (stage.id === 'proposition' ? { ...stage, name: 'Offer' } : stage)) };
    expect(detailForCard(current, new Map([['v1', { definition: renamed, moves: older }]]), card).definition.stages.find((stage) => stage.id === 'proposition')!.name).toBe('Offer');
  });

  it('a column its version\'s table does not list (a stage of another version) is refused, not left to the API', () => {
    const legacy = column('legacy', 'stage', 'Legacy');
    const choices = moveChoices([...columns, legacy], { stageId: 'proposition', status: 'open' }, { definition, moves });
    expect(choices.find((choice) => choice.target.name === 'Legacy')).toEqual({ target: legacy.target, allowed: false, reason: '\u2068Legacy\u2069 is not a stage of the process version this deal runs on.' });
  });

  it('a closed card: only the stages (a reopening), never the other outcome', () => {
    const choices = moveChoices(columns, { stageId: 'won', status: 'won' }, { definition, moves });
    expect(allowedTargets(choices).map((target) => target.name)).toEqual(['New', 'Proposition', 'Negotiation']);
    expect(choices.find((choice) => choice.target.kind === 'lost')!.reason).toBe('A won deal can only be reopened in a stage.');
  });

  it('a closed card that says where it closed: only the stages the reopen rule allows from there (that stage, or a move needing no criteria), the others refused in words', () => {
    const choices = moveChoices(columns, { stageId: 'lost', status: 'lost', closedInStage: 'proposition' }, { definition, moves });
    expect(choices.map((choice) => [choice.target.name, choice.allowed])).toEqual([
      ['New', true],
      ['Proposition', true],
      ['Negotiation', false],
      ['Won', false],
    ]);
    expect(choices.find((choice) => choice.target.name === 'Negotiation')!.reason).toContain('it closed in \u2068Proposition\u2069');
    expect(reopenable('proposition', { definition, moves })).toEqual(new Set(['proposition', 'new']));
    // Unknown (or not in the table): the API judges, every stage is offered.
    expect(reopenable(null, { definition, moves })).toBeUndefined();
    expect(reopenable('legacy', { definition, moves })).toBeUndefined();
  });

  it('a closed card on another process version is offered the reopenings its own version allows, even from a stage only that version has', () => {
    // Its version had a Demo stage (gone since) and allowed no moving back: it reopens in Demo, or Negotiation with no criteria.
    const older: ProcessDetail['moves'] = [
      {
        from: 'demo',
        options: [
          { to: 'new', allowed: false, requiredCriteria: [], refusal: { rule: 'allowBackward', code: 'OPPORTUNITY.BACKWARD_NOT_ALLOWED', message: 'Moving back from "demo" to "new" is not allowed in this process.' } },
          { to: 'negotiation', allowed: true, requiredCriteria: [] },
          { to: 'lost', allowed: true, requiredCriteria: [] },
        ],
      },
    ];
    const card = { stageId: 'lost', status: 'lost' as const, closedInStage: 'demo', processVersion: 'v1' };
    const withDemo = [column('demo', 'stage', 'Demo'), ...columns];
    const choices = moveChoices(withDemo, card, detailForCard({ definition, moves, version: 'v2' }, new Map([['v1', { definition, moves: older }]]), card));
    expect(allowedTargets(choices).map((target) => target.name)).toEqual(['Demo', 'Negotiation']);
    expect(choices.find((choice) => choice.target.name === 'New')!.reason).toContain('it closed in \u2068Demo\u2069');
  });

  it('a stage the table does not know (an older version) is left to the API to judge', () => {
    expect(moveChoices(columns, { stageId: 'legacy', status: 'open' }, { definition, moves }).every((choice) => choice.allowed)).toBe(true);
  });

  it('isolates a stage or criterion name set in a refusal (U+2068 … U+2069): a right-to-left name keeps its own order without reordering the sentence around it', () => {
    const hebrew = { ...definition, stages: definition.stages.map((stage) => (stage.id === 'proposition' ? { ...stage, name: 'הצעה' } : stage)) };
    expect(inWords('Cannot move from "proposition" to "negotiation".', hebrew)).toBe('Cannot move from \u2068הצעה\u2069 to \u2068Negotiation\u2069.');
    const closed = moveChoices([column('proposition', 'stage', 'הצעה'), ...columns.slice(2)], { stageId: 'lost', status: 'lost', closedInStage: 'proposition' }, { definition: hebrew, moves });
    expect(closed.find((choice) => choice.target.name === 'Negotiation')!.reason).toBe('it closed in \u2068הצעה\u2069, and a reopened deal returns there or where one move from there may go with no criteria met.');
  });

  it('puts API messages in words: stage names and criterion descriptions for ids, no opportunity ids', () => {
    expect(
      inWords(
        'Cannot move from "proposition" to "negotiation": 1 exit criterion of stage "proposition" is not met: proposal-given (Demo and/or proposal given). Opportunity 0b7c3a7e-1d2f-4c3b-9a8e-123456789abc.',
        definition,
      ),
    ).toBe('Cannot move from \u2068Proposition\u2069 to \u2068Negotiation\u2069: 1 exit criterion of stage \u2068Proposition\u2069 is not met: \u2068Demo and/or proposal given\u2069. Opportunity this deal.');
    expect(inWords('"timing" is not a lost reason', null)).toBe('\u2068timing\u2069 is not a lost reason');
    // Won and Lost are the board's own words; a value the API quotes that is no id keeps its quotes, isolated inside them.
    expect(inWords('Cannot move to "won" from "lost"', null)).toBe('Cannot move to Won from Lost');
    expect(inWords('limited to the teams direct, not "שותפים" nor "a \\"b\\"".', null)).toBe('limited to the teams direct, not "\u2068שותפים\u2069" nor "\u2068a \\"b\\"\u2069".');
  });

  it('says a deal on the board the API no longer finds for this key as gone to a team it does not see, not as never opened', () => {
    expect(isGone({ status: 404, code: 'OPPORTUNITY.NOT_FOUND' })).toBe(true);
    expect(isGone({ status: 404, code: 'PROCESS.NOT_FOUND' })).toBe(false);
    expect(isGone({ status: 409, code: 'OPPORTUNITY.NOT_FOUND' })).toBe(false);
    // A key that sees every team is told of a deal deleted or hidden whole in the store by its setting (410): gone all the same.
    expect(isGone({ status: 410, code: 'EVENT_STORE.STREAM_HIDDEN' })).toBe(true);
    expect(isGone({ status: 410, code: 'EVENT_STORE.STREAM_DELETED' })).toBe(true);
    expect(goneText('ACME', true)).toBe('“\u2068ACME\u2069” is no longer on this board: it may have been moved to a team this key does not see.');
    // A key that sees every team cannot have lost the deal to another team: its stream was deleted.
    expect(goneText('ACME', false)).toBe('“\u2068ACME\u2069” is no longer found: its records may have been deleted from the event store.');
  });
});
