import type { Pool } from 'pg';
import { PostgresAnalyticsQueries } from './postgres-analytics.queries';

// Each answer reads the checkpoint's state only when its revision differs from the one this
// process holds (a catalog is large). Answers run side by side: one that comes back with an older
// revision's state must not leave that state to an answer of a newer revision, which then named
// its stages from a catalog that lacked them (a 500, or PROJECTIONS.FAILED until the next change).

const stage = (key: number, stageId: string) => ({ key, processId: 'standard', stageId, name: stageId, probability: 10 * (key + 1), rotAfterDays: null });
const stateWith = (stageIds: readonly string[]) => {
  const keys = stageIds.map((_, key) => key);
  return {
    catalog: {
      stages: stageIds.map((stageId, key) => stage(key, stageId)),
      versions: [{ processId: 'standard', version: 'v1', recorded: true, stageKeys: keys, probabilities: keys.map((key) => [key, 10 * (key + 1)]) }],
      processes: [{ processId: 'standard', stageKeys: keys, latest: 0 }],
    },
    currencies: [],
    reasons: [],
  };
};

/** The checkpoint at a revision: revision 5 knows one stage, revision 6 two and a move between them. */
const checkpoints = {
  5: { state: stateWith(['new']), counters: { pairs: [], visitTotals: [] } },
  6: { state: stateWith(['new', 'qualification']), counters: { pairs: [[0, 1, 3]], visitTotals: [] } },
} as const;

/** A pool whose checkpoint reads are answered when the test says, at the revision it says, as PostgreSQL would (the state only when the revision differs from the one sent). */
function scriptedPool() {
  const asked: { sentRevision: number; answer: (revision: 5 | 6) => void }[] = [];
  const client = {
    query: (text: string) => {
      if (!text.startsWith('BEGIN')) return Promise.resolve({ rows: [] });
      const sentRevision = Number(/state_revision <> (-?\d+)/.exec(text)![1]);
      return new Promise((resolve) => {
        asked.push({
          sentRevision,
          answer: (revision) => {
            const { state, counters } = checkpoints[revision];
            const row = { position: revision * 10, failed: null, state_revision: revision, state: revision !== sentRevision ? state : null, counters, summaries: true };
            resolve([{ rows: [] }, { rows: [row] }]);
          },
        });
      });
    },
    release: () => undefined,
  };
  return { pool: { connect: async () => client } as unknown as Pool, asked };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('the state held between answers of the PostgreSQL read side', () => {
  it('gives each answer the state of the revision it read, whichever answer comes back first', async () => {
    const { pool, asked } = scriptedPool();
    const queries = new PostgresAnalyticsQueries(pool, 'stagecraft', { position: () => 60, waitFor: async () => true, status: () => [] });
    const expected = { processes: [{ processId: 'standard', stages: ['new', 'qualification'], matrix: { new: { qualification: 3 } } }] };

    // A slow answer that read revision 5, and a fast one that read revision 6 after it.
    const slow = queries.transitions({});
    const fast = queries.transitions({});
    await settle();
    asked[1]!.answer(6);
    await expect(fast).resolves.toEqual(expected);
    // Sent holding revision 6, so PostgreSQL sends no state with it.
    const next = queries.transitions({});
    await settle();
    expect(asked[2]!.sentRevision).toBe(6);
    asked[0]!.answer(5);
    await expect(slow).resolves.toEqual({ processes: [{ processId: 'standard', stages: ['new'], matrix: {} }] });
    asked[2]!.answer(6);
    await expect(next).resolves.toEqual(expected);
    // And the answers after it.
    const later = queries.transitions({});
    await settle();
    asked[3]!.answer(6);
    await expect(later).resolves.toEqual(expected);
  });
});
