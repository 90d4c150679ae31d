import type { PublicEvent } from '@stagecraft/public-events';
import type { OutgoingEvent } from '../outgoing-event';
import { opportunityRounds } from './opportunity-rounds';

const event = (position: number, subject: string): OutgoingEvent => ({ position, event: { subject } as PublicEvent, body: Buffer.alloc(0) });
const positions = (rounds: OutgoingEvent[][]) => rounds.map((round) => round.map((outgoing) => outgoing.position));

describe('opportunityRounds', () => {
  it('keeps the batch whole while no opportunity repeats', () => {
    expect(positions(opportunityRounds([event(1, 'a'), event(2, 'b'), event(3, 'c')]))).toEqual([[1, 2, 3]]);
  });

  it('puts the k-th event of each opportunity in round k, each round in log order', () => {
    expect(positions(opportunityRounds([event(1, 'a'), event(2, 'b'), event(3, 'a'), event(4, 'c'), event(5, 'b'), event(6, 'a')]))).toEqual([
      [1, 2, 4],
      [3, 5],
      [6],
    ]);
  });

  it('sends histories written one opportunity at a time together, as many rounds as the longest has events', () => {
    const batch = ['a', 'b', 'c'].flatMap((subject, index) => [1, 2, 3].map((n) => event(index * 3 + n, subject)));
    expect(positions(opportunityRounds(batch))).toEqual([
      [1, 4, 7],
      [2, 5, 8],
      [3, 6, 9],
    ]);
  });

  it('gives one event per round to one opportunity’s history, and nothing for an empty batch', () => {
    expect(positions(opportunityRounds([event(1, 'a'), event(2, 'a'), event(3, 'a')]))).toEqual([[1], [2], [3]]);
    expect(opportunityRounds([])).toEqual([]);
  });

  it('never puts an event in a round before one holding an earlier event of its opportunity (random batches)', () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 200; trial += 1) {
      const batch = Array.from({ length: 1 + Math.floor(random() * 40) }, (_, index) => event(index + 1, `o${Math.floor(random() * 6)}`));
      const rounds = opportunityRounds(batch);
      const roundOf = new Map(rounds.flatMap((round, index) => round.map((outgoing) => [outgoing.position, index] as const)));
      expect(rounds.flat()).toHaveLength(batch.length);
      for (const round of rounds) expect(new Set(round.map((outgoing) => outgoing.event.subject)).size).toBe(round.length);
      for (let i = 0; i < batch.length; i += 1) {
        for (let j = i + 1; j < batch.length; j += 1) {
          if (batch[i]!.event.subject === batch[j]!.event.subject) expect(roundOf.get(batch[j]!.position)!).toBeGreaterThan(roundOf.get(batch[i]!.position)!);
        }
      }
    }
  });
});
