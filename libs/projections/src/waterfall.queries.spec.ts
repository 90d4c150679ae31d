import fc from 'fast-check';
import { assertProperty } from '@stagecraft/testing/fast-check';
import type { WaterfallChange, WaterfallResult } from '@stagecraft/contracts';
import { foldOpportunity, type OpportunityEvent, type OpportunityState } from '@stagecraft/opportunity';
import type { ProjectedEvent } from './projection.types';
import { queryPipelineAsOf, stageIntervalsProjection, type StageIntervalsModel } from './stage-intervals.projection';
import { filterArbitraryFor, historyWith, instantArbitraryFor, type GeneratedHistory } from './testing/history.arbitrary';
import { definitionOf, expectApproxEqual, processIds, readLog, stageOrder, type OracleOpportunity } from './testing/history.oracle';
import { at, log, standardV1 } from './testing/log.fixtures';
import { project } from './testing/project';
import { ExactSum, unitsOf } from './exact-amounts';
import { WaterfallTally } from './waterfall.figures';
import { queryWaterfall, walkStageIntervals, type WaterfallQuery } from './waterfall.queries';
import { cursorWindow, decodeChangeKey, encodeChangeKey } from './waterfall.page';
import { scanWaterfall } from './waterfall.scan';

// Brute force: fold each deal's events up to every instant it has in (from, to] (its as-of states),
// and classify each pair of consecutive states by the rules written in waterfall.figures.ts.
// Nothing here uses segments.

const TOTAL = ['created', 'reopened', 'movedIn', 'amountIncreased', 'amountDecreased', 'movedOut', 'won', 'lost'] as const;
const PER_STAGE = ['created', 'reopened', 'movedIn', 'stageIn', 'amountIncreased', 'amountDecreased', 'stageOut', 'movedOut', 'won', 'lost'] as const;
const MEMOS = ['pushedOut', 'pulledIn'] as const;

interface Item {
  id: string;
  title: string;
  at: string;
  count: number;
  amount: number | null;
  currency: string | null;
}

class OracleLine {
  count = 0;
  steps = 0;
  amounts: Record<string, number> = {};
  weighted: Record<string, number> = {};
  items: Item[] = [];
}

type Open = Extract<OpportunityState, { status: 'open' }>;
const occurred = (event: ProjectedEvent) => Date.parse(String(event.data.occurredAt));
const sortedKeys = (sums: Record<string, number>) => Object.fromEntries(Object.keys(sums).sort().map((k) => [k, sums[k]!]));

function waterfallOracle(events: readonly ProjectedEvent[], query: WaterfallQuery): WaterfallResult {
  const history = readLog(events);
  const lines = new Map<string, OracleLine>();
  const line = (stage: string | undefined, bucket: string) => {
    const key = `${stage ?? '*'}|${bucket}`;
    if (!lines.has(key)) lines.set(key, new OracleLine());
    return lines.get(key)!;
  };
  const stateAt = (o: OracleOpportunity, ms: number) => foldOpportunity(o.events.filter((e) => occurred(e) <= ms).map((e) => ({ type: e.type, data: e.data }) as OpportunityEvent));
  const counts = (s: OpportunityState): s is Extract<OpportunityState, { status: 'open' }> =>
    s.status === 'open' && (query.processId === undefined || s.processId === query.processId) && (query.teamId === undefined || s.teamId === query.teamId) && (query.ownerId === undefined || s.ownerId === query.ownerId);
  const stageOf = (s: Extract<OpportunityState, { status: 'open' }>) => `${s.processId}/${s.stage}`;
  const add = (stage: string, bucket: string, count: number, amount: number | undefined, currency: string | undefined, s: { id: string; title: string }, atMs: number, total = true) => {
    for (const l of total ? [line(undefined, bucket), line(stage, bucket)] : [line(stage, bucket)]) {
      l.count += count;
      l.steps++;
      if (amount !== undefined) l.amounts[currency ?? 'unspecified'] = (l.amounts[currency ?? 'unspecified'] ?? 0) + amount;
      l.items.push({ id: s.id, title: s.title, at: new Date(atMs).toISOString(), count, amount: amount ?? null, currency: currency ?? null });
    }
  };
  const stand = (which: 'start' | 'end', s: Extract<OpportunityState, { status: 'open' }>) => {
    for (const l of [line(undefined, which), line(stageOf(s), which)]) {
      l.count++;
      if (s.amount === undefined) continue;
      const currency = s.currency ?? 'unspecified';
      const probability = definitionOf(history, s.processId, s.processVersion).stages.find((stage) => stage.id === s.stage)!.probability;
      l.amounts[currency] = (l.amounts[currency] ?? 0) + s.amount;
      l.weighted[currency] = (l.weighted[currency] ?? 0) + (s.amount * probability) / 100;
    }
  };
  const dayOf = (s: { expectedCloseDate?: string }) => (s.expectedCloseDate === undefined ? undefined : Date.parse(s.expectedCloseDate));

  for (const o of history.opportunities) {
    let before = stateAt(o, query.fromMs);
    if (counts(before)) stand('start', before);
    const instants = [...new Set(o.events.map(occurred))].filter((ms) => query.fromMs < ms && ms <= query.toMs).sort((a, b) => a - b);
    for (const t of instants) {
      const after = stateAt(o, t);
      const [was, is] = [counts(before), counts(after)];
      // Narrowed by hand: each branch below reads only the states its condition says are open.
      const [b, a] = [before as Open, after as Open];
      if (!was && is) {
        add(stageOf(a), before.status === 'open' ? 'movedIn' : t === Date.parse(o.openedAt) ? 'created' : 'reopened', 1, a.amount, a.currency, a, t);
      } else if (was && !is) {
        add(stageOf(b), after.status === 'open' ? 'movedOut' : after.status, -1, b.amount === undefined ? undefined : -b.amount, b.currency, b, t);
      } else if (was && is) {
        if (b.currency === a.currency && b.amount !== undefined && a.amount !== undefined) {
          const difference = a.amount - b.amount;
          if (difference !== 0) add(stageOf(b), difference > 0 ? 'amountIncreased' : 'amountDecreased', 0, difference, a.currency, a, t);
        } else {
          // Both halves listed as the deal stood after the change (its title then), as the read model lists them.
          if (b.amount !== undefined) add(stageOf(b), 'amountDecreased', 0, -b.amount, b.currency, a, t);
          if (a.amount !== undefined) add(stageOf(b), 'amountIncreased', 0, a.amount, a.currency, a, t);
        }
        if (b.stage !== a.stage) {
          add(stageOf(b), 'stageOut', -1, a.amount === undefined ? undefined : -a.amount, a.currency, a, t, false);
          add(stageOf(a), 'stageIn', 1, a.amount, a.currency, a, t, false);
        }
        const [dayBefore, dayAfter] = [dayOf(b), dayOf(a)];
        if (dayBefore !== undefined && dayAfter !== undefined && dayBefore !== dayAfter) add(stageOf(a), dayAfter > dayBefore ? 'pushedOut' : 'pulledIn', 1, a.amount, a.currency, a, t);
      }
      before = after;
    }
    const end = stateAt(o, query.toMs);
    if (counts(end)) stand('end', end);
  }

  const list = query.includeOpportunities === true;
  const change = (stage: string | undefined, bucket: string): WaterfallChange<string> => {
    const l = line(stage, bucket);
    const figures = { bucket, count: l.count, amountsByCurrency: sortedKeys(l.amounts), steps: l.steps };
    return list ? { ...figures, opportunities: [...l.items].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) || ((a.currency ?? '') < (b.currency ?? '') ? -1 : 1)) } : figures;
  };
  const open = (stage: string | undefined, which: 'start' | 'end') => {
    const l = line(stage, which);
    return { count: l.count, amountsByCurrency: sortedKeys(l.amounts), weightedAmountsByCurrency: sortedKeys(l.weighted) };
  };
  const figures = (stage: string | undefined, buckets: readonly string[]) => ({
    start: open(stage, 'start'),
    changes: buckets.map((bucket) => change(stage, bucket)),
    memos: MEMOS.map((bucket) => change(stage, bucket)),
    end: open(stage, 'end'),
  });
  const result = { from: new Date(query.fromMs).toISOString(), to: new Date(query.toMs).toISOString(), ...figures(undefined, TOTAL) };
  if (!query.byStage) return result as WaterfallResult;
  return {
    ...result,
    processes: processIds(history, query.processId).map((processId) => ({
      processId,
      stages: stageOrder(history, processId).map((stageId) => {
        const name = history.versions
          .filter((v) => v.processId === processId)
          .map((v) => v.definition.stages.find((s) => s.id === stageId))
          .filter((s) => s !== undefined)
          .at(-1)!.name;
        return { stageId, name, ...figures(`${processId}/${stageId}`, PER_STAGE) };
      }),
    })),
  } as WaterfallResult;
}

/** start + Σ changes = end, in whole minor units: exactly, for the count and every currency. */
function expectIdentity(figures: Pick<WaterfallResult, 'start' | 'changes' | 'end'>): void {
  const currencies = new Set([figures.start, figures.end, ...figures.changes].flatMap((f) => Object.keys(f.amountsByCurrency)));
  expect(figures.start.count + figures.changes.reduce((sum, c) => sum + c.count, 0)).toBe(figures.end.count);
  for (const currency of currencies) {
    const units = (amounts: Readonly<Record<string, number>>) => BigInt(unitsOf(amounts[currency] ?? 0));
    const changed = figures.changes.reduce((sum, c) => sum + units(c.amountsByCurrency), 0n);
    expect(units(figures.start.amountsByCurrency) + changed).toBe(units(figures.end.amountsByCurrency));
  }
}

const questionsFor = (history: GeneratedHistory) =>
  fc.array(
    fc.record({
      a: instantArbitraryFor(history),
      b: instantArbitraryFor(history),
      filter: filterArbitraryFor(history),
      byStage: fc.boolean(),
      includeOpportunities: fc.boolean(),
    }),
    { minLength: 1, maxLength: 5 },
  );

const queryOf = ({ a, b, filter, byStage, includeOpportunities }: { a: number; b: number; filter: { processId?: string; teamId?: string; ownerId?: string }; byStage: boolean; includeOpportunities: boolean }): WaterfallQuery => ({
  fromMs: Math.min(a, b),
  toMs: Math.max(a, b),
  processId: filter.processId,
  teamId: filter.teamId,
  ownerId: filter.ownerId,
  byStage,
  includeOpportunities,
});

describe('the pipeline waterfall (from the stage-intervals read model)', () => {
  it('equals the brute-force classification of every deal\'s as-of states, for random histories, instants and filters', () => {
    assertProperty(
      fc.property(historyWith(questionsFor), ([history, questions]) => {
        const model = project(stageIntervalsProjection, history.events);
        for (const question of questions) {
          const query = queryOf(question);
          expectApproxEqual(queryWaterfall(model, query), waterfallOracle(history.clean, query));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('keeps start + Σ changes = end exactly, in total and per stage, for any two instants', () => {
    assertProperty(
      fc.property(historyWith(questionsFor), ([history, questions]) => {
        const model = project(stageIntervalsProjection, history.events);
        for (const question of questions) {
          const result = queryWaterfall(model, { ...queryOf(question), byStage: true });
          expectIdentity(result);
          for (const process of result.processes!) for (const stage of process.stages) expectIdentity(stage);
        }
      }),
      { numRuns: 150 },
    );
  });

  // The general walk, which the drill-down and sums past 2^53 minor units take.
  const walked = (model: StageIntervalsModel, query: WaterfallQuery) => {
    let tally: WaterfallTally | undefined;
    walkStageIntervals(model, query, (reader) => (tally = new WaterfallTally(reader, query)));
    return tally!.result(model.catalog, query.processId, query.fromMs, query.toMs);
  };

  it('answers the same from the typed-array scan as from the general walk, to the last bit (weighted sums included)', () => {
    assertProperty(
      fc.property(historyWith(questionsFor), ([history, questions]) => {
        const model = project(stageIntervalsProjection, history.events);
        for (const question of questions) {
          const query = { ...queryOf(question), includeOpportunities: false };
          expect(scanWaterfall(model, query)).toStrictEqual(walked(model, query));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('answers the same after more events as a model built from all of them (the links beside the model are extended, never stale)', () => {
    assertProperty(
      fc.property(
        historyWith((history) => fc.tuple(fc.nat({ max: history.events.length }), questionsFor(history))),
        ([history, [split, questions]]) => {
          const growing = project(stageIntervalsProjection, history.events.slice(0, split));
          for (const question of questions) queryWaterfall(growing, queryOf(question));
          project(stageIntervalsProjection, history.events.slice(split), growing);
          const whole = project(stageIntervalsProjection, history.events);
          for (const question of questions) expect(queryWaterfall(growing, queryOf(question))).toStrictEqual(queryWaterfall(whole, queryOf(question)));
        },
      ),
      { numRuns: 100 },
    );
  });

  it('leaves amounts beyond a double\'s exact minor units, and the drill-down, to the general walk', () => {
    const model = project(stageIntervalsProjection, [log.version(standardV1), log.opened('a', standardV1, 0, { amount: 1e15, currency: 'EUR' }), log.opened('b', standardV1, 0, { amount: 1e15, currency: 'EUR' })]);
    const query = { fromMs: Date.parse(at(1)), toMs: Date.parse(at(2)) };
    expect([scanWaterfall(model, query), scanWaterfall(project(stageIntervalsProjection, [log.version(standardV1)]), { ...query, includeOpportunities: true })]).toEqual([undefined, undefined]);
    expect(queryWaterfall(model, query).start.amountsByCurrency).toEqual({ EUR: 2e15 });
  });

  it('starts and ends with the board as of from and as of to', () => {
    assertProperty(
      fc.property(historyWith(questionsFor), ([history, questions]) => {
        const model = project(stageIntervalsProjection, history.events);
        for (const question of questions) {
          const query = queryOf(question);
          const { start, end } = queryWaterfall(model, query);
          const boardCount = (ms: number) => queryPipelineAsOf(model, ms, query).processes.flatMap((p) => p.stages).reduce((n, s) => n + s.count, 0);
          expect([start.count, end.count]).toEqual([boardCount(query.fromMs), boardCount(query.toMs)]);
        }
      }),
      { numRuns: 50 },
    );
  });

  it('lists the drill-down in pages: the pages\' lists, joined per bucket, are the whole lists; the figures are the whole window\'s on every page', () => {
    // Every list of the answer (the totals', the memos', each stage's), by where it stands.
    const listsOf = (result: WaterfallResult) => {
      const lists = new Map<string, unknown[]>();
      const add = (where: string, changes: readonly WaterfallChange<string>[]) => {
        for (const change of changes) lists.set(`${where}|${change.bucket}`, [...(change.opportunities ?? [])]);
      };
      add('*', [...result.changes, ...result.memos]);
      for (const process of result.processes ?? []) for (const stage of process.stages) add(`${process.processId}/${stage.stageId}`, [...stage.changes, ...stage.memos]);
      return lists;
    };
    const withoutLists = (result: WaterfallResult) => JSON.parse(JSON.stringify(result, (key, value) => (key === 'opportunities' || key === 'nextFromChange' ? undefined : value)));
    assertProperty(
      fc.property(historyWith((history) => fc.tuple(questionsFor(history), fc.integer({ min: 1, max: 4 }))), ([history, [questions, limit]]) => {
        const model = project(stageIntervalsProjection, history.events);
        for (const question of questions) {
          const query = { ...queryOf(question), includeOpportunities: true };
          const whole = queryWaterfall(model, query);
          expect(whole.nextFromChange).toBeUndefined();
          const joined = new Map([...listsOf(whole).keys()].map((key) => [key, [] as unknown[]]));
          let fromChange: string | null | undefined;
          let pages = 0;
          do {
            const page = queryWaterfall(model, { ...query, page: { limit, ...(fromChange ? { fromChange: decodeChangeKey(fromChange, query)! } : {}) } });
            expect(withoutLists(page)).toEqual(withoutLists(whole));
            const lists = listsOf(page);
            // At most `limit` changes on a page (each listed under its bucket in the totals and in its stage).
            const changes = new Set([...lists].filter(([key]) => key.startsWith('*|') || key.endsWith('|stageIn') || key.endsWith('|stageOut')).flatMap(([key, items]) => items.map((item) => `${key.split('|')[1]}|${JSON.stringify(item)}`)));
            expect(changes.size).toBeLessThanOrEqual(limit);
            for (const [key, items] of lists) joined.get(key)!.push(...items);
            fromChange = page.nextFromChange;
            expect(fromChange === null || changes.size === limit).toBe(true);
            pages++;
          } while (typeof fromChange === 'string' && pages < 10_000);
          expect(joined).toEqual(listsOf(whole));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('reads back every cursor it writes, and no other text', () => {
    const key = { atMs: Date.parse(at(3)), id: 'a', bucket: 'won' as const, currency: null };
    const question = { fromMs: Date.parse(at(0)), toMs: Date.parse(at(10)) };
    expect(decodeChangeKey(encodeChangeKey(key, question), question)).toEqual(key);
    const tailOf = (cursor: string) => (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[]).slice(4);
    const tail = tailOf(encodeChangeKey(key, question));
    const bad = [
      '',
      'x',
      encodeChangeKey(key, question) + '=',
      Buffer.from(JSON.stringify([1, 'a', 'nope', null, ...tail])).toString('base64url'),
      Buffer.from(JSON.stringify([1.5, 'a', 'won', null, ...tail])).toString('base64url'),
      Buffer.from('[1,"a","won",null]').toString('base64url'),
      // Another window written into the cursor by hand: its tag is of the window asked.
      Buffer.from(JSON.stringify([key.atMs, 'a', 'won', null, question.fromMs - 1, question.toMs, tail[2]])).toString('base64url'),
      Buffer.from('{"atMs":1}').toString('base64url'),
    ];
    expect(bad.map((cursor) => decodeChangeKey(cursor, question))).toEqual(bad.map(() => undefined));
  });

  it('refuses a cursor passed back with another question: window, filter or breakdown', () => {
    const key = { atMs: Date.parse(at(3)), id: 'a', bucket: 'won' as const, currency: 'EUR' };
    const asked = { fromMs: Date.parse(at(0)), toMs: Date.parse(at(10)), processId: 'standard', teamId: 'direct', ownerId: 'ana', byStage: false };
    const cursor = encodeChangeKey(key, asked);
    expect(decodeChangeKey(cursor, { ...asked })).toEqual(key);
    const others = [{ fromMs: Date.parse(at(1)) }, { toMs: Date.parse(at(11)) }, { processId: undefined }, { processId: 'inside-sales' }, { teamId: undefined }, { teamId: 'partners' }, { ownerId: 'bo' }, { byStage: true }];
    expect(others.map((change) => decodeChangeKey(cursor, { ...asked, ...change }))).toEqual(others.map(() => undefined));
  });

  it('tells the window of the answer that gave a cursor (what a page asked with the cursor alone pages), and none of a text that is no cursor', () => {
    const key = { atMs: Date.parse(at(3)), id: 'a', bucket: 'won' as const, currency: null };
    const asked = { fromMs: Date.parse(at(0)) + 123, toMs: Date.parse(at(10)) + 456, teamId: 'direct' };
    expect(cursorWindow(encodeChangeKey(key, asked))).toEqual({ fromMs: asked.fromMs, toMs: asked.toMs });
    const beyondDates = Buffer.from(JSON.stringify([1, 'a', 'won', null, 8.64e15 + 1, 0, 'x'])).toString('base64url');
    expect(['', 'x', Buffer.from('[1,"a","won",null]').toString('base64url'), beyondDates].map(cursorWindow)).toEqual([undefined, undefined, undefined, undefined]);
  });

  describe('the bucket rules, by example', () => {
    const minute = (m: number) => Date.parse(at(m));
    const opened = (id: string, m: number, extra: Record<string, unknown> = {}) => log.opened(id, standardV1, m, { amount: 100, currency: 'EUR', teamId: 'direct', ...extra });
    const bucket = (result: WaterfallResult, name: string) => result.changes.find((c) => c.bucket === name)!;

    it('a deal created and won inside the window is in created (+1) and won (−1) and not at either end', () => {
      const model = project(stageIntervalsProjection, [log.version(standardV1), opened('a', 10), log.moved('a', 'new', 'won-over', 20), log.won('a', 'won-over', 30)]);
      const result = queryWaterfall(model, { fromMs: minute(0), toMs: minute(60) });
      expect([result.start.count, bucket(result, 'created').count, bucket(result, 'won').count, result.end.count]).toEqual([0, 1, -1, 0]);
      expect([bucket(result, 'created').amountsByCurrency, bucket(result, 'won').amountsByCurrency]).toEqual([{ EUR: 100 }, { EUR: -100 }]);
    });

    it('a deal reopened twice is in reopened twice and in lost for each loss inside the window', () => {
      const model = project(stageIntervalsProjection, [
        log.version(standardV1),
        opened('a', 0),
        log.lost('a', 'new', 'price', 10),
        log.reopened('a', 'new', 20),
        log.lost('a', 'new', 'price', 30),
        log.reopened('a', 'legacy', 40),
      ]);
      const result = queryWaterfall(model, { fromMs: minute(5), toMs: minute(50) });
      expect([result.start.count, bucket(result, 'reopened').steps, bucket(result, 'lost').steps, result.end.count]).toEqual([1, 2, 2, 1]);
      expect(bucket(result, 'reopened').count + bucket(result, 'lost').count).toBe(0);
    });

    it('an amount changed and then lost: the change in amountIncreased, the new amount in lost', () => {
      const model = project(stageIntervalsProjection, [log.version(standardV1), opened('a', 0), log.details('a', 10, { amount: 250 }), log.lost('a', 'new', 'price', 20)]);
      const result = queryWaterfall(model, { fromMs: minute(5), toMs: minute(30), includeOpportunities: true });
      expect(bucket(result, 'amountIncreased').amountsByCurrency).toEqual({ EUR: 150 });
      expect(bucket(result, 'lost').amountsByCurrency).toEqual({ EUR: -250 });
      expect(bucket(result, 'lost').opportunities).toEqual([{ id: 'a', title: 'Deal a', at: at(20), count: -1, amount: -250, currency: 'EUR' }]);
      expect([result.start.amountsByCurrency, result.end.amountsByCurrency]).toEqual([{ EUR: 100 }, {}]);
    });

    it('a team change moves the deal out of one team\'s waterfall and into the other\'s', () => {
      const model = project(stageIntervalsProjection, [log.version(standardV1), opened('a', 0), log.details('a', 10, { teamId: 'partners' })]);
      const of = (teamId: string) => queryWaterfall(model, { fromMs: minute(5), toMs: minute(20), teamId });
      expect([bucket(of('direct'), 'movedOut').count, bucket(of('partners'), 'movedIn').count]).toEqual([-1, 1]);
      expect(bucket(of('partners'), 'created').steps).toBe(0);
    });

    it('adds the largest amounts exactly too, beyond 2^53 minor units', () => {
      const sum = new ExactSum();
      for (const amount of [123456789012.3456, 123456789012.3456, 1e15, 1e15]) sum.add(unitsOf(amount));
      // The double nearest to each exact decimal sum, as parsing its text gives it.
      expect([unitsOf(123456789012.3456), sum.value()]).toEqual([1234567890123456n, Number('2000246913578024.6912')]);
      sum.add(-BigInt(unitsOf(1e15)));
      expect(sum.value()).toBe(Number('1000246913578024.6912'));
    });

    it('adds amounts exactly: 0.1 + 0.2 is 0.3', () => {
      const model = project(stageIntervalsProjection, [log.version(standardV1), opened('a', 0, { amount: 0.1 }), opened('b', 0, { amount: 0.2 })]);
      expect(queryWaterfall(model, { fromMs: minute(1), toMs: minute(2) }).start.amountsByCurrency).toEqual({ EUR: 0.3 });
    });
  });
});
