import type { OutgoingEvent } from '../outgoing-event';

/**
 * A batch cut, in log order, into rounds in which no opportunity has two events. A broker may
 * refuse or time out one message of a pipelined batch and still take the ones after it (a
 * RabbitMQ queue full with reject-publish, a JetStream stream's size limit, a lost ack); sent
 * again, the refused one would then arrive after a later event of its opportunity. A sink that
 * pipelines one round and has every acknowledgement before it sends the next never has an event
 * in flight behind an earlier one of its opportunity, so per-opportunity order holds under any
 * pattern of failures, while events of different opportunities still go together.
 */
export function opportunityRounds<T extends OutgoingEvent>(batch: readonly T[]): T[][] {
  const rounds: T[][] = [];
  let round: T[] = [];
  let subjects = new Set<string>();
  for (const outgoing of batch) {
    if (subjects.has(outgoing.event.subject)) {
      rounds.push(round);
      round = [];
      subjects = new Set();
    }
    round.push(outgoing);
    subjects.add(outgoing.event.subject);
  }
  if (round.length > 0) rounds.push(round);
  return rounds;
}
