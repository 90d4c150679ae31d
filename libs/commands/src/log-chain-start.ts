import { isHashless } from '@stagecraft/audit';
import { anchorOf, logStillHolds, readAllPages, type EventStore, type LogAnchor } from '@stagecraft/event-store';

/**
 * Where the log's hash chains begin: the position of its first event that carries a hash. One
 * stream read alone cannot tell events written before tamper evidence from events whose hashes
 * were stripped (a whole stream rewritten without them); the log can: only an event stored before
 * the log's first hashed one predates tamper evidence. `verify --all` reads the log in order and
 * knows it; the command side and an opportunity's /verify ask here when they meet an event
 * without a hash, which an untouched store written since tamper evidence never holds.
 *
 * What is learnt is kept: positions before an event already read do not change in a log the
 * service writes (appends go to its end), so the log is read at most once from its start up to the
 * first hashed event, however many streams ask (one question at a time: asked together, the
 * later ones wait for what the first learns rather than read the log again). What was learnt is
 * tied to the event it was learnt at, checked (one event read) before it is used: a store that
 * came back as another log (a server started again empty or from an older backup) or no longer
 * holds that event is read again from its start, not judged by another log's positions.
 */
export class LogChainStart {
  /** The log's first hashed event, once read. */
  private firstHashed: LogAnchor | undefined;
  /** The log holds no hashed event up to this one (read so far). */
  private hashlessUpTo: LogAnchor | undefined;
  /** The question being answered: the next one waits for it. */
  private pending: Promise<unknown> = Promise.resolve();

  constructor(private readonly store: Pick<EventStore, 'readAll'>) {}

  /**
   * The position of the log's first hashed event when it stands before `position` (an event
   * without a hash there was stripped), else undefined (the log was not chained yet then).
   */
  chainedBefore(position: number): Promise<number | undefined> {
    const answer = this.pending.then(() => this.answer(position));
    this.pending = answer.catch(() => undefined);
    return answer;
  }

  private async answer(position: number): Promise<number | undefined> {
    const learnt = this.firstHashed ?? this.hashlessUpTo;
    // An event there that no longer reads back is not the one learnt at either: learnt again, passing it by.
    const held = learnt === undefined || (await logStillHolds(this.store, learnt, { readsBack: true }));
    if (!held) {
      this.firstHashed = undefined;
      this.hashlessUpTo = undefined;
    }
    if (this.firstHashed !== undefined) return this.firstHashed.position < position ? this.firstHashed.position : undefined;
    if (this.hashlessUpTo !== undefined && position <= this.hashlessUpTo.position + 1) return undefined;
    // A row that cannot be read is not known to carry a hash: passed by, as a reader in order passes it.
    const pages = readAllPages(this.store, { ...(this.hashlessUpTo !== undefined ? { afterPosition: this.hashlessUpTo.position } : {}), pageSize: 500, onUnreadable: () => undefined });
    for await (const page of pages) {
      for (const event of page) {
        if (!isHashless(event)) {
          this.firstHashed = anchorOf(event);
          return event.position < position ? event.position : undefined;
        }
        this.hashlessUpTo = anchorOf(event);
        if (event.position >= position) return undefined;
      }
    }
    return undefined;
  }
}
