/**
 * The shape of a stored event that audit needs. It matches the EventStore port's StoredEvent
 * (so any adapter's events fit) without depending on the event-store lib.
 */
export interface StoredEventLike {
  readonly stream: string;
  /** Position within the stream, from 0. */
  readonly revision: number;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata: Readonly<Record<string, unknown>>;
  /** Position in the global log, where the reader has it (lets a log-wide check see what came after what). */
  readonly position?: number;
  /** When the store recorded it (ISO 8601), where the store says. */
  readonly recordedAt?: string;
}
