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
