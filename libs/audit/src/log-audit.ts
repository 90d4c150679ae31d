import { createHash } from 'node:crypto';
import { PROCESS_STREAM_PREFIX, PROCESS_VERSION_RECORDED } from '@stagecraft/sales-process';
import { ChainVerifier, GENESIS_HASH, summarise, type ChainBreak, type ChainVerdict, type LogVerdict, type UnreadableEventLike } from './hash-chain';
import { versionNamedBy } from './opportunity-verification';
import type { StoredEventLike } from './stored-event-like';

// The stream chains show an edited, moved or deleted event inside a stream, but not a stream
// deleted whole, nor events cut from the end of the log. The log audit adds what the log itself
// can show:
// - dense positions (SQLite: AUTOINCREMENT, rolled back with a failed append, so 1, 2, 3, … unless
//   rows were deleted): a missing position is a deleted event, wherever it was, and the store's
//   counter of the positions it gave (sqlite_sequence) shows the last ones cut (`numbered`);
// - a log digest, chained over every event in position order (its position and its hash). Kept
//   somewhere safe as `<digest>@<position>`, it lets a later audit prove the log up to that
//   position is exactly what it was: nothing deleted (on any store, dense or not), altered,
//   renumbered or cut from the end. KurrentDB's positions are byte offsets, not dense: there,
//   the kept head is the only way to see a deleted stream.

/** A point of the log to keep: the digest of every event up to and including `position`. */
export interface LogHead {
  readonly digest: string;
  readonly position: number;
}

/** The log head of an empty log. */
export const EMPTY_LOG_HEAD: LogHead = { digest: GENESIS_HASH, position: 0 };

/** `<digest>@<position>`: the text `verify --all` prints and `--head` takes back. */
export function formatLogHead(head: LogHead): string {
  return `${head.digest}@${head.position}`;
}

/**
 * A kept head as `formatLogHead` wrote it, or undefined when the text is not one. The whole line
 * `verify --all` prints, "keep: <digest>@<position>", is what it says to store: taken as well.
 */
export function parseLogHead(text: string): LogHead | undefined {
  const match = /^(?:keep:\s*)?([0-9a-f]{64})@(0|[1-9]\d*)$/.exec(text.trim());
  if (!match) return undefined;
  const position = Number(match[2]);
  return Number.isSafeInteger(position) ? { digest: match[1]!, position } : undefined;
}

/** The digest after one more event: SHA-256 over the previous digest, the position and the event's hash. */
export function nextLogDigest(digest: string, position: number, eventHash: string): string {
  return createHash('sha256').update(digest).update('\n').update(String(position)).update('\n').update(eventHash).digest('hex');
}

export type LogBreakReason =
  /** Positions are dense on this store and some are missing: events were deleted there. */
  | 'position-gap'
  /** An event's position is not after the previous one's: the log was renumbered. */
  | 'position-order'
  /** The log up to the kept head's position no longer gives its digest. */
  | 'head-mismatch'
  /** The log ends before the kept head's position: its last events were cut. */
  | 'head-beyond-end'
  /**
   * An opportunity opens on (or migrates to) a process version the log does not record before it:
   * its process stream was deleted, cut, or rewritten under other versions. The registry records a
   * version before any opportunity can name it.
   */
  | 'version-missing';

export interface LogBreak {
  readonly reason: LogBreakReason;
  /** Where: the first missing position, the misplaced event's, or the kept head's. */
  readonly position: number;
  readonly detail: string;
}

export interface LogAuditOptions {
  /** The store numbers its events 1, 2, 3, … with no gap (SQLite), so a gap is a deletion. */
  readonly densePositions: boolean;
  /** A head kept from an earlier audit: the log must still reproduce it. */
  readonly keptHead?: LogHead;
}

export interface LogAudit extends LogVerdict {
  /**
   * Every stream chain intact, no log break, the kept head (if given) reproduced, and something
   * vouches for every event: a later hash in its stream, or a reproduced kept head after it.
   */
  readonly ok: boolean;
  /** Streams made only of events without hashes, all before a reproduced kept head: the head vouches for them. */
  readonly uncoveredVouchedByHead: boolean;
  readonly densePositions: boolean;
  /** Every event read, in intact streams or not. */
  readonly eventsRead: number;
  /** The head to keep: the digest of the whole log as read. */
  readonly head: LogHead;
  /** Deleted or renumbered positions, and a kept head the log no longer reproduces (at most MAX_LOG_BREAKS listed). */
  readonly logBreaks: readonly LogBreak[];
  /** How many log breaks there were, listed or not. */
  readonly logBreakCount: number;
  /** The kept head given, and whether the log reproduced it. */
  readonly keptHead: { readonly head: LogHead; readonly reproduced: boolean } | null;
}

export const MAX_LOG_BREAKS = 20;

/**
 * Audits a whole log fed in position order, a page at a time: every stream's chain (ChainVerifier)
 * and the log's own continuity. Memory grows with the number of streams, not events.
 */
export class LogAuditor {
  private readonly chains = new ChainVerifier();
  private readonly breaks: LogBreak[] = [];
  private breakCount = 0;
  private digest = GENESIS_HASH;
  private lastPosition = 0;
  private keptReproduced: boolean | undefined;
  private lastUnchainedPosition = 0;
  private eventsRead = 0;
  /** `<processId>@<version>` of every process version recorded so far (a few per process). */
  private readonly recordedVersions = new Set<string>();
  /** Processes whose stream holds an event that cannot be read: which versions it recorded is unknown. */
  private readonly unreadableProcesses = new Set<string>();

  constructor(private readonly options: LogAuditOptions) {
    if (options.keptHead?.position !== 0) return;
    this.keptReproduced = options.keptHead.digest === GENESIS_HASH;
    if (!this.keptReproduced) this.fail({ reason: 'head-mismatch', position: 0, detail: `a head kept at position 0 is the empty log's, ${GENESIS_HASH}` });
  }

  add(event: StoredEventLike & { readonly position: number }): void {
    this.takePosition(event);
    this.checkProcessVersion(event);
    if (event.metadata.hash === undefined) this.lastUnchainedPosition = event.position;
    this.fold(event.position, this.chains.add(event));
  }

  /**
   * An event stored at its position that cannot be read back: its stream breaks there
   * (`unreadable`), and it is not taken for a deleted event, in its stream or in the log. What it
   * recorded is unknown, so an opportunity naming a version of a process whose stream holds one is
   * not called `version-missing` either: that stream's break says what happened.
   */
  addUnreadable(event: UnreadableEventLike): void {
    this.takePosition(event);
    if (event.stream.startsWith(PROCESS_STREAM_PREFIX)) this.unreadableProcesses.add(event.stream.slice(PROCESS_STREAM_PREFIX.length));
    this.chains.addUnreadable(event);
    // Whatever hash it had is unknown: the digest folds a mark of its own, so a kept head that
    // covers it is not reproduced.
    this.fold(event.position, createHash('sha256').update(`unreadable\n${event.stream}\n${event.revision}`).digest('hex'));
  }

  private takePosition(event: { readonly stream: string; readonly revision: number; readonly position: number }): void {
    const { position } = event;
    if (position <= this.lastPosition) {
      const detail =
        this.options.densePositions && this.eventsRead === 0 && position <= 0
          ? `an event at position ${position} (${event.stream} revision ${event.revision}), before the log's first position (1): written outside the service`
          : `the event at position ${position} (${event.stream} revision ${event.revision}) comes after position ${this.lastPosition}`;
      this.fail({ reason: 'position-order', position, detail });
    } else if (this.options.densePositions && position !== this.lastPosition + 1) {
      const missing = position - this.lastPosition - 1;
      const range = missing === 1 ? `position ${this.lastPosition + 1} is` : `positions ${this.lastPosition + 1}–${position - 1} are`;
      this.fail({ reason: 'position-gap', position: this.lastPosition + 1, detail: `${range} missing: ${missing} event(s) deleted from the log` });
    }
    const kept = this.options.keptHead;
    if (kept && this.keptReproduced === undefined && position > kept.position) {
      // The event the kept head ended on is gone.
      this.keptReproduced = false;
      this.fail({ reason: 'head-mismatch', position: kept.position, detail: `there is no event at the kept head's position ${kept.position} any more: events up to it were deleted or renumbered` });
    }
    this.eventsRead += 1;
  }

  /** Folds the event at `position` (standing for `eventHash`) into the digest, and compares it with the kept head there. */
  private fold(position: number, eventHash: string): void {
    const kept = this.options.keptHead;
    this.digest = nextLogDigest(this.digest, position, eventHash);
    this.lastPosition = Math.max(this.lastPosition, position);
    if (kept && this.keptReproduced === undefined && position === kept.position) {
      this.keptReproduced = this.digest === kept.digest;
      if (!this.keptReproduced) {
        this.fail({ reason: 'head-mismatch', position, detail: `the log up to position ${position} no longer gives the kept digest: an event up to there was deleted, altered, added or renumbered` });
      }
    }
  }

  /**
   * Compares the log read with the store's own counter of the positions it gave (SQLite's
   * AUTOINCREMENT, kept in sqlite_sequence, which deleting rows does not lower; 0 when the store
   * keeps none): read `before` the log was, it bounds what must still be there, so the last events
   * of the log cut, which no later event shows as a gap, are missing against it; read `after`, it
   * bounds what may be there at all, so an event renumbered past it was rewritten. Reading it on
   * both sides lets appends made while the log was read stand. A forger who resets the counter as
   * well is caught only by a kept head. Call it once every event was added.
   */
  numbered(counter: { readonly before: number; readonly after: number }): void {
    if (!this.options.densePositions) return;
    const { before, after } = counter;
    if (before > this.lastPosition) {
      const missing = before - this.lastPosition;
      const range = missing === 1 ? `position ${before} is` : `positions ${this.lastPosition + 1}–${before} are`;
      this.fail({
        reason: 'position-gap',
        position: this.lastPosition + 1,
        detail: `${range} missing: ${missing} event(s) cut from the end of the log (the store has numbered events up to ${before}; the log now ends at ${this.lastPosition})`,
      });
    }
    if (after > 0 && this.lastPosition > after) {
      this.fail({ reason: 'position-order', position: this.lastPosition, detail: `the log ends at position ${this.lastPosition}, past the last position the store has numbered (${after}): positions, or the store's counter of them, were rewritten outside the service` });
    }
  }

  report(): LogAudit {
    const kept = this.options.keptHead;
    let reproduced = this.keptReproduced;
    const breaks = [...this.breaks];
    let breakCount = this.breakCount;
    if (kept && reproduced === undefined) {
      reproduced = false;
      breakCount += 1;
      breaks.push({ reason: 'head-beyond-end', position: kept.position, detail: `the log ends at position ${this.lastPosition}, before the kept head's position ${kept.position}: its last events were cut` });
    }
    const chains = summarise(this.chains.verdicts());
    const uncoveredVouchedByHead = chains.uncoveredStreams > 0 && reproduced === true && this.lastUnchainedPosition <= kept!.position;
    return {
      ...chains,
      ok: chains.ok && breakCount === 0 && (chains.uncoveredStreams === 0 || uncoveredVouchedByHead),
      uncoveredVouchedByHead,
      densePositions: this.options.densePositions,
      eventsRead: this.eventsRead,
      head: { digest: this.digest, position: this.lastPosition },
      logBreaks: breaks.slice(0, MAX_LOG_BREAKS),
      logBreakCount: breakCount,
      keptHead: kept ? { head: kept, reproduced: reproduced === true } : null,
    };
  }

  private checkProcessVersion(event: StoredEventLike & { readonly position: number }): void {
    const { processId } = event.data;
    if (event.type === PROCESS_VERSION_RECORDED) {
      if (typeof processId === 'string' && typeof event.data.version === 'string') this.recordedVersions.add(`${processId}@${event.data.version}`);
      return;
    }
    const version = versionNamedBy(event);
    if (version === undefined || typeof processId !== 'string' || this.recordedVersions.has(`${processId}@${version}`) || this.unreadableProcesses.has(processId)) return;
    this.fail({
      reason: 'version-missing',
      position: event.position,
      detail: `${event.stream} revision ${event.revision} runs on process ${processId} version ${version}, which the log does not record before it: the process stream was deleted, cut or rewritten`,
    });
  }

  private fail(logBreak: LogBreak): void {
    this.breakCount += 1;
    if (this.breaks.length < MAX_LOG_BREAKS) this.breaks.push(logBreak);
  }
}

/**
 * The audit with each broken stream's break as the stream read by revision names it (`byRevision`,
 * what `verify <id>` finds). The log read in position order meets a stream's events in the order
 * their positions give: an event moved in the log is met before the one it follows, and the break
 * named there (a revision gap further on, a vaguer reason) is not the one the stream holds. A
 * stream the re-read finds intact keeps the log's finding: only the log order shows it.
 */
export function withBreaksByRevision(audit: LogAudit, byRevision: ReadonlyMap<string, ChainVerdict>): LogAudit {
  const broken = audit.broken.map((logBreak): ChainBreak => {
    const verdict = byRevision.get(logBreak.stream);
    return verdict === undefined || verdict.ok ? logBreak : verdict;
  });
  return { ...audit, broken };
}

/** Audits a whole log read in position order. */
export function auditLog(events: Iterable<StoredEventLike & { readonly position: number }>, options: LogAuditOptions): LogAudit {
  const auditor = new LogAuditor(options);
  for (const event of events) auditor.add(event);
  return auditor.report();
}
