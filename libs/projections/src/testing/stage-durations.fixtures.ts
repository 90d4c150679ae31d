import type { ProjectedEvent } from '../projection.types';
import { at, log, threeStages } from './log.fixtures';

// Histories whose stage-duration mean tells the definition apart from the ones it replaced: the
// mean is the exact sum of the visits' whole milliseconds over count · 1000, rounded once. A sum
// of ms / 1000 in the order visits ended, or in ascending order of duration, or a sum of ms in
// doubles past 2^53, gives another double here. The specs check these preconditions themselves.

/** The event at the instant `ms` instead of the fixture's minute. */
const atMs = (event: ProjectedEvent, ms: number): ProjectedEvent => ({ ...event, data: { ...event.data, occurredAt: new Date(ms).toISOString() } });

/** Deals of team t1 and owner ann whose visit to stage a lasts `durations[i]` ms, ending in that order; `opensAt` ms; then every second one moves to team t2 and owner bob. */
function visitsOf(durations: readonly number[], opensAt: (i: number) => number): { events: ProjectedEvent[]; durations: readonly number[] } {
  const events: ProjectedEvent[] = [log.version(threeStages)];
  durations.forEach((_, i) => events.push(atMs(log.opened(`d${i}`, threeStages, 0, { teamId: 't1', ownerId: 'ann' }), opensAt(i))));
  durations.forEach((ms, i) => events.push(atMs(log.moved(`d${i}`, 'a', 'b', 0), opensAt(i) + ms)));
  const last = Math.max(...durations.map((ms, i) => opensAt(i) + ms));
  durations.forEach((_, i) => {
    if (i % 2 === 1) events.push(atMs(log.details(`d${i}`, 0, { teamId: 't2', ownerId: 'bob' }), last));
  });
  return { events, durations };
}

/**
 * Visits of 300, 200 and 100 ms ending in that order: 0.3 + 0.2 + 0.1 = 0.6 and 0.1 + 0.2 + 0.3 =
 * 0.6000000000000001 in doubles, so neither seconds sum over 3 is 0.2, the exact mean.
 */
export const orderSensitiveVisits = () => visitsOf([300, 200, 100], (i) => Date.parse(at(i)));

/**
 * 40 visits of about 9,500 years (within what a timestamptz holds), then 40 of 1 ms: past 2^53 a
 * double sum of ms rounds, whether in the order they ended (each 1 ms is rounded away) or in
 * ascending order (each 300,000,000,000,001 loses 1), where the exact sum keeps every ms (it is
 * added in BigInt then, rounded once).
 */
export const millenniaVisits = () =>
  visitsOf([...Array.from({ length: 40 }, () => 300_000_000_000_001), ...Array.from({ length: 40 }, () => 1)], (i) => Date.parse('0001-01-01T00:00:00Z') + (i < 40 ? 0 : 86_400_000 * i));

/** What a plain double sum of ms in ascending order gives (the order a filtered walk adds in). */
export const ascendingDoubleSumMean = (ms: readonly number[]) => doubleSumMean([...ms].sort((a, b) => a - b));

/**
 * Ten visits of 1,000,000 to 1,000,009 ms, in one duration bucket, ending out of order: the median
 * and p90 are picked inside one bucket, from either end of it.
 */
export const oneBucketVisits = () => visitsOf([1_000_004, 1_000_009, 1_000_000, 1_000_007, 1_000_002, 1_000_005, 1_000_001, 1_000_008, 1_000_003, 1_000_006], (i) => Date.parse(at(i)));

/** The mean by the definition: whole ms added exactly (BigInt), rounded once, over count · 1000. */
export const exactMeanSeconds = (ms: readonly number[]) => Number(ms.reduce((sum, value) => sum + BigInt(value), 0n)) / (ms.length * 1000);

/** What the replaced definitions gave: ms / 1000 added in this order, over the count. */
export const secondsSumMean = (ms: readonly number[]) => ms.reduce((sum, value) => sum + value / 1000, 0) / ms.length;

/** What a plain double sum of ms in this order gives. */
export const doubleSumMean = (ms: readonly number[]) => ms.reduce((sum, value) => sum + value, 0) / (ms.length * 1000);
