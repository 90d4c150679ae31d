import { NO_ANCHOR } from '@stagecraft/event-store';
import { checkpointOffLog, describeLogReplaced, LOG_REPLACED } from './checkpoint-log';

describe('a checkpoint judged against the log the relay reads now', () => {
  const anchored = { position: 40, logId: 'first-a', anchor: { position: 40, eventId: 'e-40' } };

  it('is not told off by the first event and head of the same log, however far it has grown', () => {
    expect(checkpointOffLog(anchored, { head: 40, firstEventId: 'first-a' })).toBeUndefined();
    expect(checkpointOffLog(anchored, { head: 900, firstEventId: 'first-a' })).toBeUndefined();
  });

  it('belongs to another log when that log starts with another event, or is empty', () => {
    expect(checkpointOffLog(anchored, { head: 900, firstEventId: 'first-b' })).toBe('it was taken on another event log (its first event was first-a, this log\'s is first-b)');
    expect(checkpointOffLog(anchored, { head: 0, firstEventId: '' })).toBe('it was taken on a log that held events, and this one is empty');
  });

  it('belongs to another log when it stands past the head (a restore not written on since)', () => {
    expect(checkpointOffLog(anchored, { head: 39, firstEventId: 'first-a' })).toBe("it is past the log's head (position 39)");
    // Taken on an empty log: its first event says nothing, its position still does.
    expect(checkpointOffLog({ position: 5, logId: '', anchor: NO_ANCHOR }, { head: 3, firstEventId: 'first-a' })).toBe("it is past the log's head (position 3)");
  });

  it('is described with its state, its position, why, and both commands an operator chooses from, the sink quoted for a shell', () => {
    const text = describeLogReplaced('amqp://h:5672/?exchange=x&y', 40, 'why');
    expect(text.startsWith(`${LOG_REPLACED}: its checkpoint (position 40) does not belong to the event log it reads now (why)`)).toBe(true);
    expect(text).toContain("stagecraft relay start-over --sink 'amqp://h:5672/?exchange=x&y' --at beginning");
    expect(text).toContain('--at end');
  });
});
