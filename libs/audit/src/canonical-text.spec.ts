import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import { canonicalJson } from '@stagecraft/sales-process';
import { canonicalText } from './canonical-text';

describe('canonicalText', () => {
  it('writes exactly what canonicalJson writes, for any JSON value', () => {
    assertProperty(
      // Plus objects whose keys are often integer-like, which JavaScript orders apart.
      fc.property(fc.oneof(fc.jsonValue(), fc.dictionary(fc.oneof(fc.nat({ max: 20 }).map(String), fc.string({ maxLength: 3 })), fc.jsonValue({ maxDepth: 2 }))), (value) => {
        expect(canonicalText(value)).toBe(canonicalJson(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('puts array-index keys first, by number, as JavaScript orders an object', () => {
    const value = { b: 1, '10': 2, '2': 3, '02': 4, '-1': 5, '4294967295': 6 };
    expect(canonicalText(value)).toBe('{"2":3,"10":2,"-1":5,"02":4,"4294967295":6,"b":1}');
    expect(canonicalText(value)).toBe(canonicalJson(value));
  });

  it('sorts keys at every level, drops undefined members, writes undefined array items as null', () => {
    expect(canonicalText({ b: 1, a: { d: [3, undefined], c: 'x' }, e: undefined, '': null })).toBe('{"":null,"a":{"c":"x","d":[3,null]},"b":1}');
    expect(canonicalText({ b: 1, a: { d: [3, undefined], c: 'x' }, e: undefined, '': null })).toBe(canonicalJson({ b: 1, a: { d: [3, undefined], c: 'x' }, e: undefined, '': null }));
  });
});
