import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { firstInOrder, FirstInOrder, medianOfSorted, p90Index } from './order-statistics';
import { queryStageDurations, stageDurationsProjection } from './stage-durations.projection';
import { at, log, threeStages } from './testing/log.fixtures';
import { project } from './testing/project';

// The two order statistics of stage durations, each rule on values chosen so that the usual
// other readings give another answer: a mean is not a median, and nearest rank is not linear
// interpolation, not the upper or lower neighbour, not 0.9·n as an index.

const p90 = (values: readonly number[]) => Float64Array.from(values)[p90Index(values.length)];

describe('median', () => {
  it('of an odd count is the middle value (not the mean)', () => {
    expect(medianOfSorted(Float64Array.from([1, 2, 9]), 3)).toBe(2); // mean 4
  });

  it('of an even count is the mean of the two middle values (not the lower or the upper one)', () => {
    expect(medianOfSorted(Float64Array.from([1, 2, 4, 30]), 4)).toBe(3); // lower 2, upper 4, mean 9.25
  });

  it('reads only the first n values it is given', () => {
    expect(medianOfSorted(Float64Array.from([1, 3, 1000, 1000]), 2)).toBe(2);
  });
});

describe('p90 by nearest rank: the smallest value with at least 90 % of the values ≤ it, sorted[ceil(0.9·n) − 1]', () => {
  it('of 10 values is the 9th (linear interpolation would say 91, the upper neighbour 100)', () => {
    expect(p90([10, 20, 30, 40, 50, 60, 70, 80, 90, 100])).toBe(90);
  });

  it('of 7 values is the largest (ceil(6.3) = 7; rounding 0.9·(n − 1) would pick the 6th)', () => {
    expect(p90([1, 2, 3, 4, 5, 6, 7])).toBe(7);
  });

  it('of 20 values is the 18th, and of 11 the 10th', () => {
    expect(p90(Array.from({ length: 20 }, (_, i) => i + 1))).toBe(18);
    expect(p90(Array.from({ length: 11 }, (_, i) => i + 1))).toBe(10);
  });

  it('of one value is that value', () => {
    expect(p90([42])).toBe(42);
  });

  it('agrees with the definition for every n up to 100,000 (ceil(0.9·n) computed in integers)', () => {
    let k = 1; // the smallest k with k/n ≥ 0.9; it never shrinks as n grows
    for (let n = 1; n <= 100_000; n++) {
      while (k * 10 < 9 * n) k++;
      if (p90Index(n) !== k - 1) throw new Error(`p90Index(${n}) = ${p90Index(n)}, expected ${k - 1}`);
    }
  });
});

describe('stage durations report that median and p90', () => {
  // Ten completed visits of stage "a" of 1, 2, …, 9 and 100 minutes: median 5.5 (mean 14.5), p90
  // the 9th, 9 (interpolation 18.1, upper neighbour 100). Nine of "b" of 1, 4, 9, …, 81 minutes:
  // median the 5th, 25 (mean 31.7), p90 the 9th, 81 (rounding 0.9·(n − 1) picks the 8th, 64).
  const aMinutes = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100];
  const events = [log.version(threeStages)];
  aMinutes.forEach((minutes, i) => events.push(log.opened(`o${i}`, threeStages, 1000 * i), log.moved(`o${i}`, 'a', 'b', 1000 * i + minutes)));
  for (let i = 1; i <= 9; i++) events.push(log.moved(`o${i - 1}`, 'b', 'c', 1000 * (i - 1) + aMinutes[i - 1]! + i * i));
  const model = project(stageDurationsProjection, events);
  const completed = (filter = {}) => queryStageDurations(model, filter, at(50_000)).processes[0]!.stages.map((s) => s.completed);

  it('without a filter (read off the sorted visits)', () => {
    const [a, b] = completed();
    expect(a).toEqual({ count: 10, meanSeconds: 870, medianSeconds: 330, p90Seconds: 540 });
    expect(b).toMatchObject({ count: 9, medianSeconds: 25 * 60, p90Seconds: 81 * 60 });
  });

  it('with a filter (walked visit by visit)', () => {
    const [a, b] = completed({ from: at(0), to: at(100_000) });
    expect(a).toEqual({ count: 10, meanSeconds: 870, medianSeconds: 330, p90Seconds: 540 });
    expect(b).toMatchObject({ count: 9, medianSeconds: 25 * 60, p90Seconds: 81 * 60 });
  });
});

/** The bounded heap as firstInOrder was written before FirstInOrder: what picking as rows go by must still answer. */
function firstInOrderAsItWas(items: readonly number[], count: number, compare: (a: number, b: number) => number): number[] {
  if (count <= 0) return [];
  if (items.length <= count) return [...items].sort(compare);
  const heap: number[] = [];
  const siftDown = (from: number) => {
    let at = from;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= heap.length) return;
      const right = left + 1;
      const worse = right < heap.length && compare(heap[right]!, heap[left]!) > 0 ? right : left;
      if (compare(heap[worse]!, heap[at]!) <= 0) return;
      [heap[at], heap[worse]] = [heap[worse]!, heap[at]!];
      at = worse;
    }
  };
  for (const item of items) {
    if (heap.length < count) {
      heap.push(item);
      let at = heap.length - 1;
      while (at > 0) {
        const parent = (at - 1) >> 1;
        if (compare(heap[at]!, heap[parent]!) <= 0) break;
        [heap[at], heap[parent]] = [heap[parent]!, heap[at]!];
        at = parent;
      }
    } else if (compare(item, heap[0]!) < 0) {
      heap[0] = item;
      siftDown(0);
    }
  }
  return heap.sort(compare);
}

describe('the first items in order, picked as they go by (FirstInOrder)', () => {
  // Keys with many ties and NaNs: `key[a] - key[b] || a - b` is the board's order (entry time, then
  // id), which is not a total order once a NaN entry time (a corrupt log) is among them. Picking as
  // items go by must answer what the bounded heap answered even then, item for item.
  const keyArbitrary = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.constant(Number.NaN));
  const boardOrder = (keys: readonly number[]) => (a: number, b: number) => keys[a]! - keys[b]! || a - b;

  it('answers exactly what the bounded heap answered, for any items, cap and order, NaN keys included', () => {
    assertProperty(
      fc.property(fc.array(keyArbitrary, { maxLength: 60 }), fc.integer({ min: -1, max: 70 }), fc.boolean(), (keys, count, reversed) => {
        const order = boardOrder(keys);
        const items = keys.map((_, index) => index);
        if (reversed) items.reverse();
        const picked = new FirstInOrder(count, order);
        for (const item of items) picked.offer(item);
        expect(picked.sorted()).toEqual(firstInOrderAsItWas(items, count, order));
        expect(firstInOrder(items, count, order)).toEqual(firstInOrderAsItWas(items, count, order));
      }),
      { numRuns: 500 },
    );
  });

  it('answers the same when a caller skips the items its order would not put before the worst kept (as the board does)', () => {
    assertProperty(
      fc.property(fc.array(keyArbitrary, { maxLength: 60 }), fc.integer({ min: 1, max: 20 }), (keys, count) => {
        const order = boardOrder(keys);
        const items = keys.map((_, index) => index);
        const picked = new FirstInOrder(count, order);
        for (const item of items) {
          if (picked.full && keys[item]! > keys[picked.heap[0]!]!) continue;
          picked.offer(item);
        }
        expect(picked.sorted()).toEqual(firstInOrderAsItWas(items, count, order));
      }),
      { numRuns: 500 },
    );
  });

  it('for a total order is the sorted list cut after `count`', () => {
    assertProperty(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 })), fc.integer({ min: 0, max: 25 }), (values, count) => {
        const order = (a: number, b: number) => a - b;
        const picked = new FirstInOrder(count, order);
        for (const value of values) picked.offer(value);
        expect(picked.sorted()).toEqual([...values].sort(order).slice(0, count));
      }),
    );
  });
});
