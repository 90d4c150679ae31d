import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getSQLiteEventStore, type EventStore } from '@stagecraft/event-store';
import type { CommandEnvelope } from './command-envelope';
import { createCommandSide, type CommandSide } from './command-side';
import { IdempotencyKeyReusedError } from './command.errors';
import type { OpportunityCommandBody } from './opportunity-command.executor';

// An Idempotency-Key names one command: the same key with the same request is a retry and answers
// what the first answered, appending nothing; the same key with anything else is refused (422
// COMMAND.IDEMPOTENCY_KEY_REUSED at the API), appending nothing either. Here on the command side
// itself, for every command type and for each field that may differ, including second requests
// that would be accepted on their own, so that only the key refuses them.

const PROCESSES = join(__dirname, '..', '..', '..', 'config', 'processes');
const QUALIFICATION = ['need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker'];
const PROPOSITION = ['proposal-given', 'decision-maker-interest', 'pricing-agreed'];
const NEGOTIATION = ['negotiation-concluded', 'terms-agreed', 'contract-submitted'];

type Body = OpportunityCommandBody;
type Step = (id: string) => Body;

const opened: Step = (id) => ({ type: 'OpenOpportunity', opportunityId: id, processId: 'standard', title: 'ACME' });
const move = (stage: string, extra: Partial<Body> = {}): Step => (id) => ({ type: 'MoveOpportunityToStage', opportunityId: id, stage, ...extra }) as Body;
const meet = (criterionId: string, extra: Partial<Body> = {}): Step => (id) => ({ type: 'MeetExitCriterion', opportunityId: id, criterionId, ...extra }) as Body;
const meetAll = (criteria: readonly string[]) => criteria.map((criterion) => meet(criterion));
const inQualification = [opened, move('qualification')];
const inNegotiation = [...inQualification, ...meetAll(QUALIFICATION), move('proposition'), ...meetAll(PROPOSITION), move('negotiation'), ...meetAll(NEGOTIATION)];
const lost: Step = (id) => ({ type: 'LoseOpportunity', opportunityId: id, reason: 'price' });

interface Case {
  /** What differs in the second request. */
  readonly name: string;
  /** Commands before, each with its own server-made key. */
  readonly before: readonly Step[];
  readonly first: Step;
  readonly second: Step;
}

const CASES: readonly Case[] = [
  // Openings: the key is claimed for the opportunity it opened.
  { name: 'an opening with another title', before: [], first: opened, second: (id) => ({ ...opened(id), title: 'Other' }) as Body },
  { name: 'an opening with another process', before: [], first: opened, second: (id) => ({ ...opened(id), processId: 'inside-sales' }) as Body },
  { name: 'an opening with an amount added', before: [], first: opened, second: (id) => ({ ...opened(id), amount: 100 }) as Body },
  { name: 'an opening of another opportunity id (valid on its own)', before: [], first: opened, second: () => opened(randomUUID()) },
  // Every other command type, and each of its fields.
  { name: 'a move to another stage', before: [...inQualification, ...meetAll(QUALIFICATION)], first: move('proposition'), second: move('new') },
  { name: 'a move with another note', before: [opened], first: move('qualification', { note: 'a' }), second: move('qualification', { note: 'b' }) },
  {
    name: 'a move with another business time',
    before: [(id) => ({ ...opened(id), occurredAt: '2026-01-01T00:00:00.000Z' }) as Body],
    first: move('qualification', { occurredAt: '2026-01-02T00:00:00.000Z' }),
    second: move('qualification', { occurredAt: '2026-01-02T00:00:01.000Z' }),
  },
  { name: 'another criterion met (valid on its own)', before: inQualification, first: meet('need-confirmed'), second: meet('budget-confirmed') },
  { name: 'a criterion met with another note', before: inQualification, first: meet('goals', { note: 'a' }), second: meet('goals', { note: 'b' }) },
  {
    name: 'another criterion revoked (valid on its own)',
    before: [...inQualification, meet('goals'), meet('pain-points')],
    first: (id) => ({ type: 'RevokeExitCriterion', opportunityId: id, criterionId: 'goals' }),
    second: (id) => ({ type: 'RevokeExitCriterion', opportunityId: id, criterionId: 'pain-points' }),
  },
  {
    name: 'details with another amount (valid on its own)',
    before: [opened],
    first: (id) => ({ type: 'ChangeOpportunityDetails', opportunityId: id, amount: 100 }),
    second: (id) => ({ type: 'ChangeOpportunityDetails', opportunityId: id, amount: 200 }),
  },
  {
    name: 'details with a field added',
    before: [opened],
    first: (id) => ({ type: 'ChangeOpportunityDetails', opportunityId: id, amount: 100 }),
    second: (id) => ({ type: 'ChangeOpportunityDetails', opportunityId: id, amount: 100, ownerId: 'ana' }),
  },
  { name: 'a loss for another reason', before: [opened], first: lost, second: (id) => ({ ...lost(id), reason: 'timing' }) as Body },
  {
    name: 'a win with another note',
    before: inNegotiation,
    first: (id) => ({ type: 'WinOpportunity', opportunityId: id, note: 'a' }),
    second: (id) => ({ type: 'WinOpportunity', opportunityId: id, note: 'b' }),
  },
  {
    name: 'a reopening in another stage',
    before: [...inQualification, lost],
    first: (id) => ({ type: 'ReopenOpportunity', opportunityId: id }),
    second: (id) => ({ type: 'ReopenOpportunity', opportunityId: id, stage: 'new' }),
  },
  // A first request that changed nothing (NoChangeRecorded): its key is remembered all the same.
  {
    name: 'another title, after details sent as they stood',
    before: [opened],
    first: (id) => ({ type: 'ChangeOpportunityDetails', opportunityId: id, title: 'ACME' }),
    second: (id) => ({ type: 'ChangeOpportunityDetails', opportunityId: id, title: 'Other' }),
  },
  { name: 'another criterion met, after one already met (valid on its own)', before: [...inQualification, meet('goals')], first: meet('goals'), second: meet('need-confirmed') },
  {
    name: 'a criterion met, after a revocation of one not met (valid on its own)',
    before: inQualification,
    first: (id) => ({ type: 'RevokeExitCriterion', opportunityId: id, criterionId: 'goals' }),
    second: meet('goals'),
  },
  // The same key on another command type altogether.
  { name: 'a criterion met under the key of a move (valid on its own)', before: [opened], first: move('qualification'), second: meet('goals') },
  { name: 'details changed under the key of a criterion met (valid on its own)', before: inQualification, first: meet('goals'), second: (id) => ({ type: 'ChangeOpportunityDetails', opportunityId: id, amount: 5 }) },
];

describe('an Idempotency-Key names one command (the command side, on the SQLite store)', () => {
  let dir: string;
  let store: EventStore;
  let side: CommandSide;
  let minute = 0;
  const envelope = (commandId: string, clientSuppliedId = true): CommandEnvelope => ({
    commandId,
    clientSuppliedId,
    correlationId: randomUUID(),
    actor: 'test',
    authenticatedBy: 'test',
    now: new Date(Date.UTC(2026, 0, 3, 0, ++minute)).toISOString(),
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'idempotency-key-'));
    store = getSQLiteEventStore({ path: join(dir, 'events.db'), durability: 'normal' });
    side = await createCommandSide(store, { processesDir: PROCESSES, conflictRetries: 5, streamCacheSize: 100 });
  });
  afterAll(async () => {
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(CASES)('refuses the key with $name, appending nothing; the first request still replays', async ({ before, first, second }) => {
    const id = randomUUID();
    for (const step of before) await side.executor.execute(step(id), envelope(randomUUID(), false));
    const key = `key-${randomUUID()}`;
    const answer = await side.executor.execute(first(id), envelope(key));
    expect(answer.replayed).toBe(false);
    const head = await store.headPosition();

    const refused = side.executor.execute(second(id), envelope(key));
    await expect(refused).rejects.toThrow(IdempotencyKeyReusedError);
    await expect(refused).rejects.toMatchObject({ code: 'COMMAND.IDEMPOTENCY_KEY_REUSED', details: { commandId: key } });
    expect(await store.headPosition()).toBe(head);

    // The key still means the first request: sent again, it answers as before and appends nothing.
    expect(await side.executor.execute(first(id), envelope(key))).toEqual({ ...answer, replayed: true, appended: 0 });
    expect(await store.headPosition()).toBe(head);
  });

  it('refuses the key with another body also when the two race, whichever stores first and however many events each writes', async () => {
    const withClose = (id: string) => ({ ...opened(id), expectedCloseDate: '2026-06-30' }) as Body;
    const oneField = (id: string): Body => ({ type: 'ChangeOpportunityDetails', opportunityId: id, amount: 100 });
    const threeFields = (id: string): Body => ({ type: 'ChangeOpportunityDetails', opportunityId: id, amount: 100, ownerId: 'ana', title: 'Other' });
    for (const [name, before, pair] of [
      ['openings', [], [opened, withClose]],
      ['details', [opened], [oneField, threeFields]],
    ] as const) {
      for (const order of [0, 1]) {
        for (let round = 0; round < 5; round++) {
          const id = randomUUID();
          for (const step of before) await side.executor.execute(step(id), envelope(randomUUID(), false));
          const key = `race-${randomUUID()}`;
          const bodies = order === 0 ? pair : [pair[1], pair[0]];
          const head = await store.headPosition();
          const settled = await Promise.allSettled(bodies.map((body) => side.executor.execute(body(id), envelope(key))));
          expect([name, settled.map((result) => result.status).sort()]).toEqual([name, ['fulfilled', 'rejected']]);
          const refusal = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected')!.reason as unknown;
          expect([name, refusal]).toEqual([name, expect.any(IdempotencyKeyReusedError)]);
          // Exactly the winner's events, once.
          const written = (await store.readAll({ fromPosition: head + 1, maxCount: 100 })).filter((event) => event.stream.endsWith(id));
          expect(written.length).toBeGreaterThan(0);
          expect(new Set(written.map((event) => event.id)).size).toBe(written.length);
        }
      }
    }
  });

  it('remembers a keyed command that changed nothing: a retry after another change answers as the first did and undoes nothing', async () => {
    const id = randomUUID();
    const streamOf = async () => store.readStream(`opportunity-${id}`);
    await side.executor.execute({ type: 'OpenOpportunity', opportunityId: id, processId: 'standard', title: 'ACME', amount: 100, currency: 'EUR' }, envelope(randomUUID(), false));
    // Without a key, a command that changes nothing appends nothing.
    await side.executor.execute({ type: 'ChangeOpportunityDetails', opportunityId: id, amount: 100 }, envelope(randomUUID(), false));
    expect(await streamOf()).toHaveLength(1);

    const first = await side.executor.execute({ type: 'ChangeOpportunityDetails', opportunityId: id, amount: 100 }, envelope('pay-1'));
    const recorded = (await streamOf()).at(-1)!;
    expect(recorded).toMatchObject({ type: 'NoChangeRecorded', revision: 1, data: { opportunityId: id, command: 'ChangeOpportunityDetails' }, metadata: { commandId: 'pay-1' } });
    expect(first).toMatchObject({ revision: 1, replayed: false });

    await side.executor.execute({ type: 'ChangeOpportunityDetails', opportunityId: id, amount: 250 }, envelope(randomUUID(), false));
    const retried = await side.executor.execute({ type: 'ChangeOpportunityDetails', opportunityId: id, amount: 100 }, envelope('pay-1'));
    expect(retried).toEqual({ ...first, replayed: true, appended: 0 });
    const events = await streamOf();
    expect(events.map((event) => event.type)).toEqual(['OpportunityOpened', 'NoChangeRecorded', 'OpportunityDetailsChanged']);
    expect(events.at(-1)!.data).toMatchObject({ amount: 250 }); // the other caller's change stands

    // The same with a criterion: met again under a key, revoked by someone else, the retry does not mark it met.
    await side.executor.execute({ type: 'MoveOpportunityToStage', opportunityId: id, stage: 'qualification' }, envelope(randomUUID(), false));
    await side.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId: 'goals' }, envelope(randomUUID(), false));
    const again = await side.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId: 'goals' }, envelope('goals-1'));
    await side.executor.execute({ type: 'RevokeExitCriterion', opportunityId: id, criterionId: 'goals' }, envelope(randomUUID(), false));
    expect(await side.executor.execute({ type: 'MeetExitCriterion', opportunityId: id, criterionId: 'goals' }, envelope('goals-1'))).toEqual({ ...again, replayed: true, appended: 0 });
    expect((await streamOf()).at(-1)!.type).toBe('ExitCriterionRevoked');
  });

  it('leaves the key of a refused opening free: its corrected retry under the same key opens the deal, once', async () => {
    const taken = randomUUID();
    await side.executor.execute(opened(taken), envelope(randomUUID(), false));
    const limited = (key: string): CommandEnvelope => ({ ...envelope(key), teams: ['direct'] });
    const corrected = (id: string) => ({ ...opened(id), teamId: 'direct' }) as Body;
    for (const [name, refusedBody, refusedEnvelope] of [
      ['another team', (id: string) => ({ ...opened(id), teamId: 'partners' }) as Body, limited],
      ['an unknown process', (id: string) => ({ ...corrected(id), processId: 'nope' }) as Body, envelope],
      ['an id already taken', () => opened(taken), envelope],
    ] as const) {
      const id = randomUUID();
      const key = `refused-${randomUUID()}`;
      const head = await store.headPosition();
      await expect(side.executor.execute(refusedBody(id), refusedEnvelope(key))).rejects.toThrow();
      expect([name, await store.headPosition()]).toEqual([name, head]); // nothing written, the key not claimed
      const answer = await side.executor.execute(corrected(id), limited(key));
      expect([name, answer]).toEqual([name, expect.objectContaining({ revision: 0, replayed: false })]);
      expect(await side.executor.execute(corrected(id), limited(key))).toEqual({ ...answer, replayed: true, appended: 0 });
      // From then on the key is the opening's: another opportunity under it is refused.
      await expect(side.executor.execute(opened(randomUUID()), envelope(key))).rejects.toThrow(IdempotencyKeyReusedError);
    }
  });
});
