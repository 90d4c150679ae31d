import { randomUUID } from 'node:crypto';
import type { OpportunityCommandBody, OpportunityCommandExecutor } from '@stagecraft/commands';

/**
 * One opportunity on the shipped "standard" process through every command the executor takes but
 * migration: open, move, criteria met and revoked, details changed, lost, reopened, won.
 * Returns the number of events it appended.
 */
export async function runJourney(executor: OpportunityCommandExecutor, title: string): Promise<{ id: string; events: number }> {
  const id = randomUUID();
  let events = 0;
  type Body = OpportunityCommandBody extends infer B ? (B extends unknown ? Omit<B, 'opportunityId'> : never) : never;
  const send = async (body: Body) => {
    const before = events;
    const answer = await executor.execute({ ...body, opportunityId: id } as OpportunityCommandBody, {
      commandId: randomUUID(),
      clientSuppliedId: false,
      correlationId: `journey-${title}`,
      actor: 'relay-test',
      onBehalfOf: 'ana',
      authenticatedBy: 'test',
      now: new Date().toISOString(),
    });
    events = answer.revision + 1;
    return events - before;
  };
  const meet = async (...criteria: string[]) => {
    for (const criterionId of criteria) await send({ type: 'MeetExitCriterion', criterionId, note: `${criterionId} ok` });
  };
  await send({ type: 'OpenOpportunity', title, processId: 'standard', teamId: 'direct', ownerId: 'ana', amount: 1000, currency: 'EUR' });
  await send({ type: 'MoveOpportunityToStage', stage: 'qualification', note: 'call done' });
  await meet('need-confirmed', 'budget-confirmed', 'pain-points', 'goals', 'decision-maker');
  await send({ type: 'RevokeExitCriterion', criterionId: 'goals', note: 'not so sure' });
  await meet('goals');
  await send({ type: 'ChangeOpportunityDetails', amount: 1500, ownerId: 'ben' });
  await send({ type: 'MoveOpportunityToStage', stage: 'proposition' });
  await send({ type: 'LoseOpportunity', reason: 'price' });
  await send({ type: 'ReopenOpportunity' });
  await meet('proposal-given', 'decision-maker-interest', 'pricing-agreed');
  await send({ type: 'MoveOpportunityToStage', stage: 'negotiation' });
  await meet('negotiation-concluded', 'terms-agreed', 'contract-submitted');
  await send({ type: 'WinOpportunity', note: 'signed' });
  return { id, events };
}
