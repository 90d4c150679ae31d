import { serializeReadSideState } from './read-side.fold';
import { readSavedReadSideState, UnreadableReadSideStateError } from './read-side.saved-state';

// The state a projector keeps with its checkpoint is read back as it was written, and anything
// else is refused by one typed error, which the projector answers by folding the log again and
// the queries by 503 PROJECTIONS.FAILED (never a TypeError: a stopped start-up, a 500).

const saved = {
  catalog: {
    stages: [
      { key: 0, processId: 'standard', stageId: 'new', name: 'New', probability: 10, rotAfterDays: null },
      { key: 1, processId: 'standard', stageId: 'qualification', name: 'Qualification', probability: 20, rotAfterDays: 14 },
    ],
    versions: [{ processId: 'standard', version: 'v1', recorded: true, stageKeys: [0, 1], probabilities: [[0, 10], [1, 20]], criteria: [[0, []], [1, ['need-confirmed']]] }],
    processes: [{ processId: 'standard', stageKeys: [0, 1], latest: 0 }],
  },
  currencies: ['EUR'],
  reasons: ['price'],
};
const counters = { pairs: [[0, 1, 3], [1, -2, 1]], visitTotals: [[0, 3, 12.5]] };

const damaged = (change: (copy: typeof saved) => unknown) => change(structuredClone(saved));

describe('reading back the state saved with the read side checkpoint', () => {
  it('restores what a projector wrote', () => {
    const state = readSavedReadSideState(saved, counters);
    expect(serializeReadSideState(state)).toEqual(saved);
    expect(state.pairs.map((pair) => [pair.from, pair.to, pair.count])).toEqual(counters.pairs);
    expect(readSavedReadSideState(saved, null).pairs).toEqual([]);
  });

  it.each([
    ['no object', () => 5],
    ['a catalog that is a number', () => damaged((copy) => ({ ...copy, catalog: 5 }))],
    ['a catalog without processes', () => damaged((copy) => ({ ...copy, catalog: { stages: copy.catalog.stages, versions: copy.catalog.versions } }))],
    ['currencies as text', () => damaged((copy) => ({ ...copy, currencies: 'EUR' }))],
    ['a stage of a process the catalog lacks', () => damaged((copy) => (copy.catalog.stages[1]!.processId = 'gone', copy))],
    ['a stage out of its place', () => damaged((copy) => (copy.catalog.stages[1]!.key = 7, copy))],
    ['a version naming a stage key past the stages', () => damaged((copy) => (copy.catalog.versions[0]!.stageKeys = [0, 9], copy))],
    ['a latest version the catalog lacks', () => damaged((copy) => (copy.catalog.processes[0]!.latest = 3, copy))],
    ['criteria that are not lists of ids', () => damaged((copy) => ((copy.catalog.versions[0] as { criteria: unknown }).criteria = [[1, 'need-confirmed']], copy))],
    ['a probability that is text', () => damaged((copy) => ((copy.catalog.stages[0] as { probability: unknown }).probability = '10', copy))],
  ])('refuses %s, naming what is wrong', (_what, state) => {
    expect(() => readSavedReadSideState(state(), counters)).toThrow(UnreadableReadSideStateError);
  });

  it('refuses counters that are not lists of number triples', () => {
    for (const bad of [[], { pairs: 'x', visitTotals: [] }, { pairs: [[0, 1]], visitTotals: [] }, { pairs: [], visitTotals: [[0, 1, null]] }]) {
      expect(() => readSavedReadSideState(saved, bad)).toThrow(UnreadableReadSideStateError);
    }
  });

  // The transitions query names each pair's stages from the catalog: a key past it was a TypeError (a 500).
  it('refuses counters naming a stage the catalog does not hold, or an end that is none', () => {
    for (const bad of [{ pairs: [[9, 1, 3]], visitTotals: [] }, { pairs: [[0, -3, 1]], visitTotals: [] }, { pairs: [[0.5, 1, 1]], visitTotals: [] }, { pairs: [], visitTotals: [[2, 1, 1]] }]) {
      expect(() => readSavedReadSideState(saved, bad)).toThrow(UnreadableReadSideStateError);
    }
  });
});
