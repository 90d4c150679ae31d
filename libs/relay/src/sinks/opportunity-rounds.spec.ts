import type { PublicEvent } from '@stagecraft/public-events';
import type { OutgoingEvent } from '../outgoing-event';
import { opportunityRounds } from './opportunity-rounds';

const event = (position: number, subject: string): OutgoingEvent => ({ position, event: { subject } as PublicEvent, body: Buffer.alloc(0) });
const positions = (rounds: OutgoingEvent[][]) => rounds.map((round) => round.map((outgoing) => outgoing.position));

describe('opportunityRounds', () => {
  it('keeps the batch whole while no opportunity repeats', () => {
    expect(positions(opportunityRounds([event(1, 'a'), event(2, 'b'), event(3, 'c')]))).toEqual([[1, 2, 3]]);
  });

  it('starts a round at each event of an opportunity already in the round, keeping log order', () => {
    expect(positions(opportunityRounds([event(1, 'a'), event(2, 'b'), event(3, 'a'), event(4, 'c'), event(5, 'b'), event(6, 'a')]))).toEqual([
      [1, 2],
      [3, 4, 5],
      [6],
    ]);
  });

  it('gives one event per round to one opportunity’s history, and nothing for an empty batch', () => {
    expect(positions(opportunityRounds([event(1, 'a'), event(2, 'a'), event(3, 'a')]))).toEqual([[1], [2], [3]]);
    expect(opportunityRounds([])).toEqual([]);
  });
});
