import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { depthOf, MAX_JSON_DEPTH } from './request-shape.hooks';

/** The depth as the definition reads: a plain value 0, a container one more than its deepest child. */
const referenceDepth = (value: unknown): number =>
  value === null || typeof value !== 'object' ? 0 : 1 + Math.max(0, ...Object.values(value).map(referenceDepth));

describe('depthOf', () => {
  it.each([
    [5, 0],
    [null, 0],
    ['text', 0],
    [{}, 1],
    [{ stage: 'new', note: null, met: true }, 1],
    [[], 1],
    [[1, 'a'], 1],
    [{ stageMapping: { a: 'b' } }, 2],
    [[[1]], 2],
    [{ a: [{ b: {} }] }, 4],
  ])('measures %j as %i deep', (value, depth) => {
    expect(depthOf(value)).toBe(depth);
  });

  // Flat bodies take a short way; every body, flat or nested, must measure as the definition says
  // (up to the cap, past which only "deeper than allowed" matters).
  it('measures every JSON value as the definition does', () => {
    assertProperty(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (value) => {
        expect(Math.min(depthOf(value), MAX_JSON_DEPTH + 1)).toBe(Math.min(referenceDepth(value), MAX_JSON_DEPTH + 1));
      }),
      { numRuns: 2000 },
    );
  });
});
