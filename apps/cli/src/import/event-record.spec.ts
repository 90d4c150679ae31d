import { commandForEvent, type EventRecord } from './event-record';

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
    expect(refused).toMatchObject({ kind: 'reject', reason: expect.stringMatching(new RegExp(`^data\\.${field}: must be an id of 1 to 100`)) });
    expect((refused as { reason: string }).reason.length).toBeLessThan(300);
  });

  it('a details change whose team or owner breaks the rule; one that leaves them out is replayed', () => {
    expect(commandForEvent(record('OpportunityDetailsChanged', { teamId: 'EMEA/north' }))).toMatchObject({ kind: 'reject', reason: expect.stringMatching(/^data\.teamId: /) });
    expect(commandForEvent(record('OpportunityDetailsChanged', { ownerId: 'ana\u202e' }))).toMatchObject({ kind: 'reject', reason: expect.stringMatching(/^data\.ownerId: /) });
    expect(commandForEvent(record('OpportunityDetailsChanged', { title: 'Renamed' }))).toMatchObject({ kind: 'command', body: { type: 'ChangeOpportunityDetails', title: 'Renamed' } });
    expect(commandForEvent(opened({ teamId: 'direct', ownerId: 'ana@example.com' }))).toMatchObject({ kind: 'command', body: { teamId: 'direct', ownerId: 'ana@example.com' } });
  });
});
