import type { OutgoingEvent } from '../outgoing-event';

/**
 * A batch cut into rounds in which no opportunity has two events: round k holds the k-th event of
 * each opportunity in the batch, each round in log order. A broker may refuse or time out one
 * message of a pipelined batch and still take the ones after it (a RabbitMQ queue full with
 * reject-publish, a JetStream stream's size limit, a lost ack); sent again, the refused one would
 * then arrive after a later event of its opportunity. A sink that pipelines one round and has every
 * acknowledgement before it sends the next never has an event in flight behind an earlier one of
 * its opportunity, so per-opportunity order holds under any pattern of failures.
 *
 * By rank rather than cut where an opportunity repeats: a catch-up over histories written one
 * opportunity at a time (an import) would otherwise go one round trip per event. The price is that
 * events of different opportunities may go out of log order within a batch, which the consumer's
 * contract (the last `stagecraftrevision` applied, per opportunity) does not rely on.
 */
export function opportunityRounds<T extends OutgoingEvent>(batch: readonly T[]): T[][] {
  const rounds: T[][] = [];
  const seen = new Map<string, number>();
  for (const outgoing of batch) {
    const rank = seen.get(outgoing.event.subject) ?? 0;
    seen.set(outgoing.event.subject, rank + 1);
    (rounds[rank] ??= []).push(outgoing);
  }
  return rounds;
}
