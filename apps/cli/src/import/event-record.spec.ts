import { COMMAND_FIELDS, fitsRule, type FieldSpec } from '@stagecraft/opportunity';
import { commandForEvent, isLegacyNote, REPLAYED_AS, toEventRecord, type EventRecord } from './event-record';

const ID = '6f2574ab-d0e8-5f65-acef-6b0b2ad050fc';
const record = (type: string, data: Record<string, unknown>): EventRecord => ({
  line: 1,
  id: 'e1',
  stream: `opportunity-${ID}`,
  revision: 3,
  type,
  data: { opportunityId: ID, occurredAt: '2026-01-02T09:00:00.000Z', ...data },
  metadata: {},
});

describe('commandForEvent: an exported event replayed as the command that made it', () => {
  it('keeps the next steps written on a win or a loss', () => {
    expect(commandForEvent(record('OpportunityWon', { stage: 'negotiation', note: 'signed', nextSteps: 'kick-off on Monday' }))).toMatchObject({
      kind: 'command',
      body: { type: 'WinOpportunity', note: 'signed', nextSteps: 'kick-off on Monday' },
    });
    expect(commandForEvent(record('OpportunityLost', { stage: 'new', reason: 'price', nextSteps: 'call again in May' }))).toMatchObject({
      kind: 'command',
      body: { type: 'LoseOpportunity', reason: 'price', nextSteps: 'call again in May' },
    });
    // Without next steps, none is invented.
    const lost = commandForEvent(record('OpportunityLost', { stage: 'new', reason: 'price' }));
    expect(lost.kind === 'command' && 'nextSteps' in lost.body).toBe(false);
  });

  it('keeps a note or next steps of null as an earlier version recorded it (the API took null for an omitted field), judging every other field', () => {
    expect(commandForEvent(record('StageChanged', { from: 'new', to: 'qualification', direction: 'forward', note: null }))).toMatchObject({ kind: 'command', body: { type: 'MoveOpportunityToStage', note: null } });
    expect(commandForEvent(record('OpportunityLost', { stage: 'new', reason: 'price', note: null, nextSteps: null }))).toMatchObject({ kind: 'command', body: { note: null, nextSteps: null } });
    expect(commandForEvent(record('OpportunityLost', { stage: 'new', reason: null, note: null }))).toEqual({ kind: 'reject', reason: expect.stringMatching(/^data\.reason: must be /) });
  });

  it('keeps a note or next steps that draws nothing as an earlier version recorded it, but not one the API never took', () => {
    expect(commandForEvent(record('StageChanged', { from: 'new', to: 'qualification', direction: 'forward', note: ' ' }))).toMatchObject({ kind: 'command', body: { note: ' ' } });
    expect(commandForEvent(record('OpportunityWon', { stage: 'negotiation', note: '\u200b', nextSteps: '\u3164' }))).toMatchObject({ kind: 'command', body: { note: '\u200b', nextSteps: '\u3164' } });
    expect(commandForEvent(record('StageChanged', { from: 'new', to: 'qualification', direction: 'forward', note: '' }))).toEqual({ kind: 'reject', reason: expect.stringMatching(/^data\.note: must be /) });
    expect(commandForEvent(record('StageChanged', { from: 'new', to: 'qualification', direction: 'forward', note: ' '.repeat(2001) }))).toEqual({ kind: 'reject', reason: expect.stringMatching(/^data\.note: must be /) });
  });
});

describe('commandForEvent: a keyed command that changed nothing (NoChangeRecorded)', () => {
  it('is made again, not skipped: it holds a revision the events after it follow', () => {
    expect(commandForEvent({ ...record('NoChangeRecorded', { command: 'MeetExitCriterion' }), metadata: { actor: 'api-key:crm' } })).toEqual({
      kind: 'no-change',
      opportunityId: ID,
      commandType: 'MeetExitCriterion',
      occurredAt: '2026-01-02T09:00:00.000Z',
      onBehalfOf: 'api-key:crm',
    });
    expect(commandForEvent(record('NoChangeRecorded', { command: { a: 1 } }))).toEqual({ kind: 'reject', reason: 'data.command: must be the type of a command (got {"a":1})' });
  });
});

describe('commandForEvent: what the API could never have recorded is refused, naming the field', () => {
  const opened = (data: Record<string, unknown>, stream = `opportunity-${ID}`, opportunityId = ID): EventRecord => ({
    ...record('OpportunityOpened', { processId: 'standard', processVersion: 'v', title: 'Deal', ...data }),
    stream,
    data: { opportunityId, occurredAt: '2026-01-02T09:00:00.000Z', processId: 'standard', processVersion: 'v', title: 'Deal', ...data },
  });

  it('an opportunity id that is not a UUID: no route could address the deal', () => {
    for (const id of ['SF-1042', 'not a uuid', 'x'.repeat(300)]) {
      const refused = commandForEvent(opened({}, `opportunity-${id}`, id));
      expect(refused).toMatchObject({ kind: 'reject', reason: expect.stringMatching(/must be a UUID/) });
      expect((refused as { reason: string }).reason.length).toBeLessThan(200);
    }
    // A UUID in capitals names the same deal, as over HTTP.
    expect(commandForEvent(opened({}, `opportunity-${ID.toUpperCase()}`, ID.toUpperCase())).kind).toBe('command');
  });

  it.each([
    ['teamId', 'an emoji', '🚀'],
    ['teamId', '50,000 characters long', 'x'.repeat(50_000)],
    ['teamId', 'two words', 'Direct team'],
    ['ownerId', 'led by a space', ' ana'],
    ['ownerId', 'a number', 42],
    ['processId', 'two words', 'stand ard'],
  ])('an opening whose %s is %s', (field, _label, value) => {
    const refused = commandForEvent(opened({ [field]: value }));
    expect(refused).toMatchObject({ kind: 'reject', reason: expect.stringMatching(new RegExp(`^data\\.${field}: must be an id of 1 to ${field === 'processId' ? 64 : 100}`)) });
    expect((refused as { reason: string }).reason.length).toBeLessThan(300);
  });

  it('a details change whose team or owner breaks the rule; one that leaves them out is replayed', () => {
    expect(commandForEvent(record('OpportunityDetailsChanged', { teamId: 'EMEA/north' }))).toMatchObject({ kind: 'reject', reason: expect.stringMatching(/^data\.teamId: /) });
    expect(commandForEvent(record('OpportunityDetailsChanged', { ownerId: 'ana\u202e' }))).toMatchObject({ kind: 'reject', reason: expect.stringMatching(/^data\.ownerId: /) });
    expect(commandForEvent(record('OpportunityDetailsChanged', { title: 'Renamed' }))).toMatchObject({ kind: 'command', body: { type: 'ChangeOpportunityDetails', title: 'Renamed' } });
    expect(commandForEvent(opened({ teamId: 'direct', ownerId: 'ana@example.com' }))).toMatchObject({ kind: 'command', body: { teamId: 'direct', ownerId: 'ana@example.com' } });
  });
});

describe('commandForEvent: every field the import replays is held to the rule the API holds its body to', () => {
  /** A valid event of each type; one field at a time is then spoiled. */
  const VALID: Readonly<Record<keyof typeof REPLAYED_AS, Record<string, unknown>>> = {
    OpportunityOpened: { processId: 'standard', processVersion: 'v', stage: 'new', title: 'Deal', teamId: 'direct', ownerId: 'ana', amount: 100, currency: 'EUR' },
    ExitCriterionMet: { stage: 'new', criterionId: 'budget', note: 'ok' },
    ExitCriterionRevoked: { stage: 'new', criterionId: 'budget', note: 'ok' },
    StageChanged: { from: 'new', to: 'qualification', direction: 'forward', note: 'ok' },
    OpportunityWon: { stage: 'negotiation', reason: 'relationship', note: 'ok', nextSteps: 'kick-off' },
    OpportunityLost: { stage: 'new', reason: 'price', note: 'ok', nextSteps: 'call in May' },
    OpportunityReopened: { stage: 'new', note: 'ok' },
    OpportunityDetailsChanged: { title: 'Deal', teamId: 'direct', ownerId: 'ana', amount: 100, currency: 'EUR' },
    ExpectedCloseDateChanged: { from: null, to: '2026-06-30' },
    ProcessMigrated: { processId: 'standard', fromVersion: 'v1', toVersion: 'v2', stageMapping: { lead: 'new' }, fromStage: 'lead', toStage: 'new', criteriaKept: [], note: 'ok' },
  };
  /** Command fields no event of theirs gives: an opening's date is its own ExpectedCloseDateChanged. */
  const NOT_REPLAYED: Readonly<Record<string, readonly string[]>> = { OpenOpportunity: ['expectedCloseDate'] };

  const SAMPLES: readonly unknown[] = [
    null, true, 0, 12345, -1, 1.23456, 1e16, {}, { a: 1 }, [], ['x'], '', ' ', '   ', 'eur', 'EURO', 'ana b', '-ana', 'EMEA/north', '🚀',
    '2026-01-02T09:00:00', 'x'.repeat(41), 'x'.repeat(65), 'x'.repeat(101), 'x'.repeat(201), 'x'.repeat(2001), 'x'.repeat(5000),
    { lead: 'Bad Stage' }, { lead: 1 }, Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`s${i}`, 'lead'])),
  ];
  /** A note or next steps an earlier API recorded (null, or one that draws nothing) is replayed as the line has it, not refused. */
  const refusedBy = (spec: FieldSpec, field = ''): unknown[] => [
    ...(spec.required ? [undefined] : []),
    ...SAMPLES.filter((value) => !(value === null && spec.nullable) && !isLegacyNote(field, value) && !fitsRule(spec.rule, value)),
  ];

  it('every field of every replayed command is given by an event (or named as given otherwise)', () => {
    for (const command of new Set(Object.values(REPLAYED_AS).map((replay) => replay.command))) {
      const given = Object.values(REPLAYED_AS).filter((replay) => replay.command === command).flatMap((replay) => Object.values(replay.fields));
      expect([...given, 'occurredAt', ...(NOT_REPLAYED[command] ?? [])].sort()).toEqual(Object.keys(COMMAND_FIELDS[command]).sort());
    }
  });

  it.each(Object.keys(REPLAYED_AS) as (keyof typeof REPLAYED_AS)[])('%s: a valid event is replayed; each field spoiled as the API refuses it is refused, naming it', (type) => {
    expect(commandForEvent(record(type, VALID[type])).kind).toBe('command');
    const fields: [string, string][] = [...Object.entries(REPLAYED_AS[type].fields), ['occurredAt', 'occurredAt']];
    for (const [dataField, commandField] of fields) {
      const spec = (COMMAND_FIELDS[REPLAYED_AS[type].command] as Readonly<Record<string, FieldSpec>>)[commandField]!;
      const bad = refusedBy(spec, commandField);
      expect(bad.length).toBeGreaterThan(2);
      for (const value of bad) {
        const data: Record<string, unknown> = { ...VALID[type], [dataField]: value };
        if (value === undefined) delete data[dataField];
        const event = { ...record(type, {}), data: { opportunityId: ID, occurredAt: '2026-01-02T09:00:00.000Z', ...data } };
        const answer = commandForEvent(event);
        expect({ [dataField]: value, answer }).toEqual({ [dataField]: value, answer: { kind: 'reject', reason: expect.stringMatching(new RegExp(`^data\\.${dataField}: (is required|must be )`)) } });
        expect((answer as { reason: string }).reason.length).toBeLessThan(400);
      }
    }
  });

  it.each([
    ['a title that is an object', { title: { a: 1 } }, /^data\.title: must be a string of 1 to 200 characters with a visible character/],
    ['a title that is a number', { title: 12345 }, /^data\.title: /],
    ['a title of 5,000 characters', { title: 'x'.repeat(5000) }, /^data\.title: /],
    ['a title of spaces only', { title: '     ' }, /^data\.title: /],
    ['a currency in lower case', { currency: 'eur', amount: 100 }, /^data\.currency: must be an ISO 4217 code/],
  ])('an opening with %s is refused', (_label, data, reason) => {
    const opened = record('OpportunityOpened', { processId: 'standard', processVersion: 'v', stage: 'new', title: 'Deal', ...data });
    expect(commandForEvent(opened)).toEqual({ kind: 'reject', reason: expect.stringMatching(reason) });
  });
});

describe('commandForEvent: who did it is kept only as a name the API could have recorded', () => {
  const withMetadata = (metadata: Record<string, unknown>): EventRecord => ({ ...record('OpportunityLost', { stage: 'new', reason: 'price' }), metadata });

  it('keeps the original actor (or whom it acted for) as onBehalfOf', () => {
    expect(commandForEvent(withMetadata({ actor: 'Ana Müller' }))).toMatchObject({ kind: 'command', onBehalfOf: 'Ana Müller' });
    expect(commandForEvent(withMetadata({ actor: 'billing-service', onBehalfOf: 'ana' }))).toMatchObject({ kind: 'command', onBehalfOf: 'ana' });
    expect(commandForEvent(withMetadata({})).kind).toBe('command');
  });

  it.each([
    ['actor', 'an ESC sequence', 'evil\u001b[31mRED'],
    ['actor', 'a newline', 'ana\nforged line'],
    ['actor', 'a line separator', 'ana\u2028bob'],
    ['actor', 'spaces only', '   '],
    ['actor', 'a number', 42],
    ['onBehalfOf', 'a bell', 'ana\u0007'],
  ])('refuses a metadata.%s holding %s, naming it', (field, _label, value) => {
    expect(commandForEvent(withMetadata({ actor: 'billing-service', [field]: value }))).toEqual({ kind: 'reject', reason: expect.stringMatching(new RegExp(`^metadata\\.${field}: must be text .*no control character`)) });
  });
});

describe('toEventRecord: an exported line as import reads it', () => {
  it('refuses data or metadata nested deeper than a stored event may be, naming it, as the stores refuse such a row', () => {
    const deep = JSON.parse(`${'['.repeat(20_000)}1${']'.repeat(20_000)}`) as unknown;
    const line = (data: unknown, metadata: unknown) => ({ id: 'e-1', stream: 'opportunity-x', revision: 0, type: 'OpportunityOpened', data, metadata });
    expect(toEventRecord(3, line({ x: deep }, {}))).toEqual({ ok: false, reason: expect.stringMatching(/^data: is nested deeper than 1000 levels/) });
    expect(toEventRecord(3, line({}, { x: deep }))).toEqual({ ok: false, reason: expect.stringMatching(/^metadata: is nested deeper than 1000 levels/) });
    expect(toEventRecord(3, line({ x: [[1]] }, {}))).toMatchObject({ ok: true });
  });
});
