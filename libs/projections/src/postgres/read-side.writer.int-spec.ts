import { ReadSideWriter, type WrittenEvent } from './read-side.writer';
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

// A deal whose stream opens in the batch (the opening at revision 0) has no row yet: its record is
// not asked of PostgreSQL. A first fold opens nearly every deal it meets, and each batch waited for
// that lookup. An opening at a later revision (a log the API never writes) is no such proof: the
// deal's row is read back, and the first opening stands, as in the in-memory models.
describeWithPostgres('the read-side writer, records of deals a batch opens', () => {
  const readSide = new PostgresTestReadSide();
  beforeAll(() => readSide.reset());
  afterAll(() => readSide.close());

  /** Folds and commits each batch through a writer keeping `cacheSize` records; counts the record reads on its reader. */
  const foldWith = async (batches: readonly (readonly WrittenEvent[])[], cacheSize: number) => {
    await readSide.load([]);
    const client = await readSide.pool.connect();
    const reader = await readSide.pool.connect();
    const recordReads: number[] = [];
    const query = reader.query.bind(reader) as (...args: unknown[]) => unknown;
    (reader as unknown as { query: unknown }).query = (...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes(`FROM ${readSide.schema}.opportunities WHERE opportunity_id = ANY`)) recordReads.push((args[1] as string[][])[0]!.length);
      return query(...args);
    };
    try {
      const writer = new ReadSideWriter(client, readSide.schema, cacheSize, reader);
      await writer.load();
      for (const batch of batches) await writer.apply(batch, batch[batch.length - 1]!.position, 'test-log');
    } finally {
      (reader as unknown as { query: unknown }).query = query;
      client.release();
      reader.release();
    }
    return recordReads;
  };
  const atRevision = <E extends WrittenEvent>(event: E, revision: number): E => ({ ...event, revision });
  const titles = async () => (await readSide.pool.query(`SELECT opportunity_id, title FROM ${readSide.schema}.opportunities ORDER BY opened_position`)).rows;

  it('asks for no record of a deal opened in the batch, and reads back those opened before it that it no longer holds', async () => {
    // Made in log order: each fixture event takes the next position.
    const first = [log.version(standardV1), ...['n1', 'n2', 'n3'].map((id, i) => atRevision(log.opened(id, standardV1, i), 0)), atRevision(log.moved('n1', 'new', 'legacy', 5), 1)];
    const later = ['n1', 'n2', 'n3'].map((id, i) => atRevision(log.moved(id, id === 'n1' ? 'legacy' : 'new', id === 'n1' ? 'won-over' : 'legacy', 10 + i), id === 'n1' ? 2 : 1));
    const reads = await foldWith([first, later], 1);
    // The first batch opens all three: nothing to read. The second meets them again, the writer holding only one.
    expect(reads).toEqual([2]);
    expect(await titles()).toEqual(['n1', 'n2', 'n3'].map((id) => ({ opportunity_id: id, title: `Deal ${id}` })));
  });

  it('reads back the row of a deal opened again at a later revision, and keeps its first opening', async () => {
    const first = atRevision(log.opened('d1', standardV1, 1, { title: 'First' }), 0);
    const again = atRevision(log.opened('d1', standardV1, 2, { title: 'Again' }), 3);
    const reads = await foldWith([[log.version(standardV1), first], [again]], 0);
    expect(reads).toEqual([1]);
    expect(await titles()).toEqual([{ opportunity_id: 'd1', title: 'First' }]);
  });
});
