// Median and p90 over durations kept in ascending order (stage-durations keeps them sorted).
//
// Median: the middle value for odd n, the mean of the two middle values for even n.
// p90: nearest rank, the smallest value with at least 90 % of the values ≤ it, i.e.
// sorted[ceil(0.9·n) − 1], with ceil(0.9·n) computed exactly in integers as ⌊(9n + 9) / 10⌋
// (0.9·n in floating point is not exact).

/** 0-based index of the nearest-rank p90 among n ≥ 1 sorted values. */
export const p90Index = (n: number): number => Math.floor((9 * n + 9) / 10) - 1;

/** Median of sorted[0, n), n ≥ 1. */
export function medianOfSorted(sorted: Float64Array, n: number): number {
  const middle = n >> 1;
  return n % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * The first `count` items of `items` in the order `compare` gives, sorted; the same as
 * `[...items].sort(compare).slice(0, count)` for a total order. A bounded max-heap of the best
 * `count` so far: O(n log count) and no copy of the whole list, so capping a column of 40k cards
 * at 100 costs a pass with one comparison per card, not a sort of all of them.
 */
export function firstInOrder(items: readonly number[], count: number, compare: (a: number, b: number) => number): number[] {
  const first = new FirstInOrder(count, compare);
  for (const item of items) first.offer(item);
  return first.sorted();
}

/**
 * firstInOrder fed one item at a time, so a caller can pick while it walks its rows instead of
 * listing them first; offering the same items in the same order answers exactly what
 * firstInOrder(items, …) answers (firstInOrder is this, fed at once).
 *
 * While `full`, `heap[0]` is the worst item kept and a newcomer gets in only when `compare` puts
 * it before that one: a caller may skip `offer` for an item it knows compare would not put first.
 */
export class FirstInOrder {
  /** The items kept: in offer order until more than `count` come, then a max-heap of the best `count`. */
  readonly heap: number[] = [];
  /** Whether more than `count` items came: `heap` is a heap, and `heap[0]` the worst of them. */
  full = false;

  constructor(
    private readonly count: number,
    private readonly compare: (a: number, b: number) => number,
  ) {}

  offer(item: number): void {
    const { heap, compare } = this;
    if (this.full) {
      if (compare(item, heap[0]!) < 0) {
        heap[0] = item;
        this.siftDown();
      }
      return;
    }
    if (this.count <= 0) return;
    heap.push(item);
    if (heap.length <= this.count) return;
    // One more than `count`: make a heap of the first `count`, pushed one by one as the bounded
    // heap always did, then take this one as any later one.
    heap.pop();
    for (let last = 1; last < heap.length; last++) this.siftUp(last);
    this.full = true;
    this.offer(item);
  }

  /** The items kept, in order: all of them sorted while no more than `count` came. */
  sorted(): number[] {
    return this.heap.sort(this.compare);
  }

  private siftUp(from: number): void {
    const { heap, compare } = this;
    let at = from;
    while (at > 0) {
      const parent = (at - 1) >> 1;
      if (compare(heap[at]!, heap[parent]!) <= 0) break;
      [heap[at], heap[parent]] = [heap[parent]!, heap[at]!];
      at = parent;
    }
  }

  private siftDown(): void {
    const { heap, compare } = this;
    let at = 0;
    for (;;) {
      const left = 2 * at + 1;
      if (left >= heap.length) return;
      const right = left + 1;
      const worse = right < heap.length && compare(heap[right]!, heap[left]!) > 0 ? right : left;
      if (compare(heap[worse]!, heap[at]!) <= 0) return;
      [heap[at], heap[worse]] = [heap[worse]!, heap[at]!];
      at = worse;
    }
  }
}
