import type { RecordedCommand, RecordedCommandLookup } from './stream-snapshots/stream-snapshot.store';

const NOWHERE: RecordedCommandLookup = () => undefined;

/**
 * The client-keyed commands a stream holds, by command id: what answers a retry. Those folded
 * since the stream's last snapshot are held here (`recent`); those before it are looked up in
 * the snapshot store, one id at a time. So loading a stream from its snapshot, which every
 * keyed command does after its append, costs the same at its 5,000th command as at its 5th,
 * instead of reading and copying every command the stream ever recorded.
 */
export class RecordedCommands {
  static readonly NONE = new RecordedCommands(new Map(), NOWHERE);

  private constructor(
    private readonly recent: ReadonlyMap<string, RecordedCommand>,
    private readonly older: RecordedCommandLookup,
  ) {}

  /** Commands kept before a snapshot, with none recorded since. */
  static before(older: RecordedCommandLookup): RecordedCommands {
    return new RecordedCommands(new Map(), older);
  }

  get(commandId: string): RecordedCommand | undefined {
    return this.recent.get(commandId) ?? this.older(commandId);
  }

  has(commandId: string): boolean {
    return this.get(commandId) !== undefined;
  }

  /** These commands and more, folded since (copied on write: a loaded stream is shared by the cache). */
  with(folded: readonly (readonly [string, RecordedCommand])[]): RecordedCommands {
    if (folded.length === 0) return this;
    const recent = new Map(this.recent);
    for (const [commandId, command] of folded) recent.set(commandId, command);
    return new RecordedCommands(recent, this.older);
  }

  /** Those recorded since the last snapshot: what the next snapshot must add to the store. */
  sinceSnapshot(): readonly (readonly [string, RecordedCommand])[] {
    return [...this.recent];
  }
}
