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
