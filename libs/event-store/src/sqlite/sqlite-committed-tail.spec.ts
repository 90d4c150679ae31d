import { CommittedTail, type CommittedEvent } from './sqlite-committed-tail';

const committed = (position: number, stream = 'deal-1', type = 'Happened'): CommittedEvent => ({
  position,
  revision: position - 1,
  stream,
  id: `id-${position}`,
  type,
  data: JSON.stringify({ n: position }),
  metadata: JSON.stringify({ actor: 'a' }),
  recorded_at: '2026-11-28T00:00:00.000Z',
});
const positions = (page: { events: { position: number }[] } | undefined) => page?.events.map((event) => event.position);

describe('CommittedTail', () => {
  it('answers nothing before its first batch, then every event after a cursor inside its run', () => {
    const tail = new CommittedTail();
    expect(tail.read(0, {}, 100)).toBeUndefined();
    tail.committed(0, 2, [committed(1), committed(2)]);
    tail.committed(2, 3, [committed(3)]);

    expect(tail.read(0, {}, 100)).toEqual({ head: 3, events: [1, 2, 3].map((p) => expect.objectContaining({ position: p })) });
    expect(positions(tail.read(2, {}, 100))).toEqual([3]);
    expect(tail.read(3, {}, 100)).toEqual({ head: 3, events: [] });
    // Past the run's end: another process may have written there; only SQLite can say.
    expect(tail.read(4, {}, 100)).toBeUndefined();
  });

  it('gives each reader objects of its own, parsed from the stored text', () => {
    const tail = new CommittedTail();
    tail.committed(0, 1, [committed(1)]);
    const [first] = tail.read(0, {}, 1)!.events;
    const [second] = tail.read(0, {}, 1)!.events;
    expect(first).toEqual({ id: 'id-1', stream: 'deal-1', revision: 0, position: 1, type: 'Happened', data: { n: 1 }, metadata: { actor: 'a' }, recordedAt: '2026-11-28T00:00:00.000Z' });
    expect(second).toEqual(first);
    expect(second!.data).not.toBe(first!.data);
  });

  it('starts a new run when a batch does not begin where the run ends (another writer wrote in between)', () => {
    const tail = new CommittedTail();
    tail.committed(0, 2, [committed(1), committed(2)]);
    tail.committed(5, 6, [committed(6)]);
    expect(tail.read(2, {}, 100)).toBeUndefined();
    expect(positions(tail.read(5, {}, 100))).toEqual([6]);
  });

  it('filters by type and stream prefix, and stops at the limit', () => {
    const tail = new CommittedTail();
    tail.committed(0, 4, [committed(1, 'deal-1', 'A'), committed(2, 'deal-2', 'B'), committed(3, 'other-1', 'A'), committed(4, 'deal-3', 'A')]);
    expect(positions(tail.read(0, { types: new Set(['A']) }, 100))).toEqual([1, 3, 4]);
    expect(positions(tail.read(0, { streamPrefix: 'deal-' }, 100))).toEqual([1, 2, 4]);
    expect(positions(tail.read(0, { streamPrefix: 'deal-', types: new Set(['A']) }, 100))).toEqual([1, 4]);
    expect(positions(tail.read(0, {}, 2))).toEqual([1, 2]);
  });

  it('drops what every reader is past, and after forget() answers nothing until a new run', () => {
    const tail = new CommittedTail();
    tail.committed(0, 3, [committed(1), committed(2), committed(3)]);
    tail.trim(2);
    expect(tail.size).toBe(1);
    expect(tail.read(1, {}, 100)).toBeUndefined();
    expect(positions(tail.read(2, {}, 100))).toEqual([3]);
    tail.trim(10); // never past the run's end
    expect(tail.read(3, {}, 100)).toEqual({ head: 3, events: [] });

    tail.forget();
    expect(tail.read(3, {}, 100)).toBeUndefined();
    tail.committed(3, 4, [committed(4)]);
    expect(positions(tail.read(3, {}, 100))).toEqual([4]);
  });

  it('holds a bounded number of events: a reader that far behind reads SQLite', () => {
    const tail = new CommittedTail();
    for (let position = 1; position <= 20_000; position++) tail.committed(position - 1, position, [committed(position)]);
    expect(tail.size).toBeLessThanOrEqual(8_192);
    expect(tail.read(0, {}, 1)).toBeUndefined();
    expect(positions(tail.read(19_999, {}, 100))).toEqual([20_000]);
  });
});
