import { isHashless } from '@stagecraft/audit';
import { readAllPages, type EventStore } from '@stagecraft/event-store';

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
 * first hashed event, however many streams ask.
 */
export class LogChainStart {
  /** The position of the log's first hashed event, once read. */
  private firstHashed: number | undefined;
  /** The log holds no hashed event up to here (read so far). */
  private hashlessUpTo: number | undefined;

  constructor(private readonly store: Pick<EventStore, 'readAll'>) {}

  /**
   * The position of the log's first hashed event when it stands before `position` (an event
   * without a hash there was stripped), else undefined (the log was not chained yet then).
   */
  async chainedBefore(position: number): Promise<number | undefined> {
    if (this.firstHashed !== undefined) return this.firstHashed < position ? this.firstHashed : undefined;
    if (this.hashlessUpTo !== undefined && position <= this.hashlessUpTo + 1) return undefined;
    // A row that cannot be read is not known to carry a hash: passed by, as a reader in order passes it.
    const pages = readAllPages(this.store, { ...(this.hashlessUpTo !== undefined ? { afterPosition: this.hashlessUpTo } : {}), pageSize: 500, onUnreadable: () => undefined });
    for await (const page of pages) {
      for (const event of page) {
        if (!isHashless(event)) {
          this.firstHashed = event.position;
          return event.position < position ? event.position : undefined;
        }
        this.hashlessUpTo = event.position;
        if (event.position >= position) return undefined;
      }
    }
    return undefined;
  }
}
