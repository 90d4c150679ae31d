import { ReadSideWriter } from './read-side.writer';
import { log, standardV1 } from '../testing/log.fixtures';
import { describeWithPostgres, PostgresTestReadSide } from '../testing/postgres.testing';

// The writer sends each batch as one query with its values written in as literals
// (read-side.writer.ts): text a client may write, quotes and backslashes included, must come back
// from the tables exactly as the events carried it.

describeWithPostgres('the read-side writer', () => {
  const readSide = new PostgresTestReadSide();
  beforeAll(() => readSide.reset());
  afterAll(() => readSide.close());

  it('stores titles, teams and lost reasons with quotes, backslashes, braces and any Unicode as written', async () => {
    const awkward = [`O'Brien "big" deal`, 'C:\\deals\\new', '{a,b} NULL', '', 'émoji 🚀 \u00a0 tab\tend', "'); DROP TABLE x; --", 'E\'\\\''];
    const events = [
      log.version(standardV1),
      ...awkward.map((title, i) => log.opened(`w${i}`, standardV1, i, { title, teamId: title, ownerId: `${title}-owner` })),
      ...awkward.map((reason, i) => log.lost(`w${i}`, 'new', reason, 100 + i)),
    ];
    await readSide.load(events, [3, 5]);
    const { rows } = await readSide.pool.query(`SELECT opportunity_id, title, team_id, owner_id, lost_reason FROM ${readSide.schema}.opportunities ORDER BY opened_position`);
    expect(rows).toEqual(awkward.map((text, i) => ({ opportunity_id: `w${i}`, title: text, team_id: text, owner_id: `${text}-owner`, lost_reason: text })));
    const outcomes = await readSide.pool.query(`SELECT reason FROM ${readSide.schema}.outcomes ORDER BY closing_position`);
    expect(outcomes.rows.map((row) => row.reason)).toEqual(awkward);
  });
});

// The projector folds batch n+1 while batch n commits, and a rebuild's swap reads the state back
// (`load`) between two commits: a batch folded before that read and written after it is folded
// again. The batches after it must still follow it in log order — neither skip its events (they
// were lost) nor fold them twice (the next commit was then refused as written out of order).
describeWithPostgres('the read-side writer, a batch folded before a load and written after it', () => {
  const readSide = new PostgresTestReadSide();
  beforeAll(() => readSide.reset());
  afterAll(() => readSide.close());

  const start = [log.version(standardV1), log.opened('r1', standardV1, 1)];
  const first = [log.opened('r2', standardV1, 2)];
  const second = [log.opened('r3', standardV1, 3)];
  const last = (events: readonly { position: number }[]) => events[events.length - 1]!.position;

  const written = async () => {
    const { rows } = await readSide.pool.query(`SELECT opportunity_id FROM ${readSide.schema}.opportunities ORDER BY opened_position`);
    const checkpoint = await readSide.pool.query(`SELECT position FROM ${readSide.schema}.checkpoint`);
    return { opportunities: rows.map((row) => row.opportunity_id as string), checkpoint: Number(checkpoint.rows[0].position) };
  };
  const withWriter = async (work: (writer: ReadSideWriter) => Promise<void>) => {
    await readSide.load(start);
    const client = await readSide.pool.connect();
    const reader = await readSide.pool.connect();
    try {
      const writer = new ReadSideWriter(client, readSide.schema, 50_000, reader);
      await writer.load();
      await work(writer);
    } finally {
      client.release();
      reader.release();
    }
  };

  it('keeps the batches in order when the next one folds after the load, before the first is written', async () => {
    await withWriter(async (writer) => {
      const one = await writer.fold(first, last(first), 'test-log');
      await writer.load();
      const two = await writer.fold(second, last(second), 'test-log');
      await writer.commit(one!);
      await writer.commit(two!);
    });
    expect(await written()).toEqual({ opportunities: ['r1', 'r2', 'r3'], checkpoint: last(second) });
  });

  // Every reload (a rebuild's swap) between a fold and its commit: nothing of those batches is kept
  // once they are written, however many reloads there were.
  it('keeps nothing of the batches once they are written, however many loads came between folds and commits', async () => {
    const events = [...Array.from({ length: 6 }, (_, i) => log.opened(`h${i}`, standardV1, 10 + i))];
    await withWriter(async (writer) => {
      for (const event of events) {
        const batch = await writer.fold([event], event.position, 'test-log');
        await writer.load();
        await writer.commit(batch!);
      }
      expect(writer.batchesHeld).toBe(0);
    });
    expect((await written()).opportunities).toEqual(['r1', ...events.map((event) => event.data.opportunityId)]);
  });

  it('keeps the batches in order when the first is folded again while the next one folds', async () => {
    await withWriter(async (writer) => {
      const one = await writer.fold(first, last(first), 'test-log');
      await writer.load();
      const folding = writer.fold(second, last(second), 'test-log');
      const committing = writer.commit(one!);
      const two = await folding;
      await committing;
      if (two) await writer.commit(two);
    });
    expect(await written()).toEqual({ opportunities: ['r1', 'r2', 'r3'], checkpoint: last(second) });
  });
});
