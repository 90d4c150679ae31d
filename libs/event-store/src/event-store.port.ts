/** DI token of the EventStore port: inject with `@Inject(EVENT_STORE)`. */
export const EVENT_STORE = Symbol('EVENT_STORE');

/**
 * What the writer believes about the stream before appending:
 * - a number: the revision of the stream's last event (revisions start at 0);
 * - 'no_stream': the stream must not exist yet;
 * - 'stream_exists': the stream must have at least one event;
 * - 'any': no check.
 */
export type ExpectedRevision = number | 'no_stream' | 'stream_exists' | 'any';

/** The revision a stream is at: its last event's revision, or 'no_stream'. */
export type StreamRevision = number | 'no_stream';

export interface NewEvent {
  /**
   * A UUID other than the nil one; appending an event id that is already stored is a retry and
   * writes nothing. Malformed ids and types are refused with a TypeError before anything is sent.
   */
  readonly id: string;
  /** Not empty. */
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface StoredEvent {
  readonly id: string;
  readonly stream: string;
  /** Position within the stream, from 0. */
  readonly revision: number;
  /** Position in the global log: increasing across all streams, from 1. Not necessarily dense. */
  readonly position: number;
  readonly type: string;
  readonly data: Record<string, unknown>;
  readonly metadata: Record<string, unknown>;
  /** When the store recorded it (ISO 8601). */
  readonly recordedAt: string;
}

export interface AppendResult {
  /** Revision of the last event written: pass it as expectedRevision for the next append. */
  readonly nextRevision: number;
  /** Global position of the last event written. */
  readonly position: number;
}

export interface ReadStreamOptions {
  /** Inclusive; default: the first event going forwards, the last going backwards. */
  readonly fromRevision?: number;
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number;
  /**
   * Read what the store's leader holds, not a replica that may lag (KurrentDB with
   * nodePreference=follower or random): for a check of what this process already knows is there.
   * A store without replicas ignores it.
   */
  readonly fromLeader?: boolean;
}

export interface ReadAllOptions {
  /** Inclusive; default: the start of the log (forwards) or its end (backwards). */
  readonly fromPosition?: number;
  readonly direction?: 'forwards' | 'backwards';
  readonly maxCount?: number;
  /**
   * Read what the store's leader holds, not a replica that may lag (see ReadStreamOptions): for a
   * check of events this process took in from its subscription, which a node further on may feed.
   */
  readonly fromLeader?: boolean;
}

export interface SubscribeToAllOptions {
  /** Exclusive: the subscription starts with the first event after it; default: from the start. */
  readonly fromPosition?: number;
  /** Only streams whose name starts with this prefix. */
  readonly streamPrefix?: string;
  /**
   * A hint: the reader needs only events of these types. An adapter may leave the others out
   * (reporting its progress past them with checkpoint messages) or deliver them anyway, so the
   * reader still checks each event's type. Skipping what nobody reads is most of a rebuild's
   * saving: most of a log is criteria being met, which no read model counts.
   */
  readonly eventTypes?: readonly string[];
  /** Ends the subscription; the iterator then completes. */
  readonly signal?: AbortSignal;
}

export type SubscriptionMessage =
  | { readonly type: 'event'; readonly event: StoredEvent }
  /**
   * Everything up to this position has been delivered or filtered out: a filtered subscription
   * says so, so that a reader waiting for a position of a filtered-out event is not left waiting.
   */
  | { readonly type: 'checkpoint'; readonly position: number }
  /**
   * Sent once when the replay reaches the end of the log (even a quiet one whose last events this
   * subscription does not deliver); live events follow. Also a checkpoint.
   */
  | { readonly type: 'caughtUp'; readonly position: number };

/**
 * What a store's own settings do to hide one stream's events from its readers while its log (read
 * in position order) may still hold them: KurrentDB's stream metadata and deletes. Numbers as the
 * store holds them; a soft delete is reported as `softDeleted`, not as its $tb.
 */
export interface StreamHiding {
  readonly stream: string;
  /** $tb: events before this revision are hidden. */
  readonly truncateBefore?: number;
  /** $maxCount: only the last this many events are shown. */
  readonly maxCount?: number;
  /** $maxAge, in seconds: events older than this (by the store's clock) are hidden. */
  readonly maxAgeSeconds?: number;
  /** Deleted, but it may be written again: reads find no stream. */
  readonly softDeleted: boolean;
  /** Deleted for good: reads fail with StreamDeletedError. */
  readonly tombstoned: boolean;
  /** The first revision a stream read shows now (undefined: none), so that what the store's clock hides ($maxAge) can be told. */
  readonly firstReadableRevision?: number;
}

export interface EventStoreHealth {
  readonly kind: string;
  readonly reachable: boolean;
  readonly detail?: string;
  /** Set while appends cannot be written though the store answers (a full disk, a SQLite file another process keeps locked): why, for operators. */
  readonly cannotWrite?: string;
}

/**
 * The event store port. Adapters: SQLite (embedded default); EventStoreDB / KurrentDB.
 * Every adapter passes the same contract suite (event-store.contract.ts).
 */
export interface EventStore {
  /**
   * Appends atomically. Fails with WrongExpectedRevisionError, DuplicateEventIdError,
   * AppendTooLargeError, StreamDeletedError, EventStoreAccessDeniedError, EventStoreUnavailableError
   * (nothing was written) or EventStoreOutcomeUnknownError (the answer was lost and the store could
   * not tell whether it was written: retry with the same event ids). A retry — the same ids — is
   * answered with the original result; when its events can no longer be read (truncated), with a
   * position at or after them.
   */
  appendToStream(stream: string, events: readonly NewEvent[], options: { readonly expectedRevision: ExpectedRevision }): Promise<AppendResult>;
  /** Events of one stream; an unknown stream reads as empty, one deleted for good fails with StreamDeletedError. */
  readStream(stream: string, options?: ReadStreamOptions): Promise<StoredEvent[]>;
  /** Events of all streams in global order. */
  readAll(options?: ReadAllOptions): Promise<StoredEvent[]>;
  /** Catch-up subscription: replays from the position, then delivers live events. */
  subscribeToAll(options?: SubscribeToAllOptions): AsyncIterable<SubscriptionMessage>;
  /** Global position of the last event in the log, 0 when empty. */
  headPosition(): Promise<number>;
  /**
   * Optional: the highest position the store has ever given an event, which deleting events does
   * not lower (SQLite: AUTOINCREMENT's counter in sqlite_sequence); undefined when it keeps none.
   * Above headPosition, the log's last events were cut (a log audit compares them).
   */
  highestPositionNumbered?(): Promise<number | undefined>;
  health(): Promise<EventStoreHealth>;
  close(): Promise<void>;
  /**
   * Optional, a hint: true while this store instance has seen no append it did not make itself
   * since its last commit before that (SQLite tells at each commit; a store that cannot tell
   * leaves it out). A caller may then take a stream it folded from its own reads and appends as
   * current without reading it again. Only a hint: a write it missed is still caught by the
   * expected revision of the next append, so nothing may be concluded from a fold that no append
   * confirmed.
   */
  isSoleWriter?(): boolean;
  /**
   * Optional: every stream whose settings may hide events from its readers (see StreamHiding),
   * read from the leader. A store without such settings (SQLite) answers none.
   */
  streamsHidingEvents?(): Promise<readonly StreamHiding[]>;
  /** Optional: what may hide this stream's events from readers (see StreamHiding); undefined when nothing does, or the store has no such settings. */
  streamHiding?(stream: string): Promise<StreamHiding | undefined>;
  /**
   * Optional: true when reads that do not ask for the leader (ReadStreamOptions.fromLeader) may be
   * served by a replica that lags behind it (KurrentDB with nodePreference=follower or random). A
   * caller then takes what such a read shows as possibly behind: it asks the leader again before
   * concluding from it that something is not there (yet). Absent or false: every read is current.
   */
  readsMayLag?(): boolean;
}
