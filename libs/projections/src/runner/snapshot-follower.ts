import type { EventStore } from '@stagecraft/event-store';
import type { Projection, ReadModelKey } from '../projection.types';
import { SnapshotFormatError } from './model-serialization';
import type { ProjectionSnapshotStore } from './projection-snapshot.store';
import type { ProjectionStatus, ReadModels } from './read-models.port';

const NOT_SAVED_YET = 'the projector has not saved this read model yet: it is served from its first save (start the projector, npm run start:projector, if it is not running)';

/** Raised when something only the process running the projections can do is asked of a follower. */
export class RunsElsewhereError extends Error {
  constructor(what: string) {
    super(`${what} runs in the projector process (npm run start:projector), not in this API instance`);
    this.name = 'RunsElsewhereError';
  }
}

/**
 * Serves the read models another process (apps/projector) keeps: polls the saved snapshots and
 * loads a model whenever its checkpoint moved. Several API instances can follow one projector.
 */
export class SnapshotFollower implements ReadModels {
  readonly projectedElsewhere = true;
  private readonly models = new Map<string, { model: unknown; position: number; failed?: string }>();
  /** Saved models this code cannot read, with why, until the projector saves a readable one. */
  private readonly unreadable = new Map<string, { position: number; reason: string }>();
  private timer?: NodeJS.Timeout;
  private head = 0;
  private refreshing?: Promise<void>;

  private readonly projectionNames: readonly string[];

  constructor(
    private readonly store: EventStore,
    private readonly snapshots: ProjectionSnapshotStore,
    private readonly projections: readonly Pick<Projection<unknown>, 'name' | 'accepts'>[],
    private readonly pollIntervalMs = 250,
  ) {
    this.projectionNames = projections.map((projection) => projection.name);
  }

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh().catch(() => undefined), this.pollIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
  }

  model<Model>({ name }: ReadModelKey<Model>): Model {
    const entry = this.models.get(name);
    if (!entry) throw new Error(`No read model "${name}" has been saved by the projector yet`);
    return entry.model as Model;
  }

  names(): string[] {
    return [...this.projectionNames];
  }

  /** The position every working model has reached; 0 until the projector has saved them all. */
  position(): number {
    let lowest = Infinity;
    for (const name of this.projectionNames) {
      const entry = this.models.get(name);
      if (!entry) return 0;
      if (entry.failed === undefined) lowest = Math.min(lowest, entry.position);
    }
    return lowest === Infinity ? 0 : lowest;
  }

  status(): ProjectionStatus[] {
    return this.projectionNames.map((name) => {
      const entry = this.models.get(name);
      const checkpoint = entry?.position ?? 0;
      // A model not saved yet is no stop (failure() says why it cannot be served meanwhile): the
      // projector's first save ends it, so /health stays ready and ?minPosition= waits for it.
      const failed = this.unreadable.has(name) ? this.failure(name) : entry?.failed;
      return { name, checkpoint, lag: Math.max(0, this.head - checkpoint), rebuilding: false, ...(failed !== undefined ? { failed } : {}) };
    });
  }

  failure(name: string): string | undefined {
    const unreadable = this.unreadable.get(name);
    if (unreadable) return `the projector's saved model could not be read (${unreadable.reason})`;
    const entry = this.models.get(name);
    return entry ? entry.failed : NOT_SAVED_YET;
  }

  async waitFor(position: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.position() >= position) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, this.pollIntervalMs)));
      await this.refresh();
    }
  }

  async rebuild(): Promise<void> {
    throw new RunsElsewhereError('Rebuilding a read model');
  }

  // One refresh at a time (the poll and waitFor both ask): a model is loaded once per save.
  private refresh(): Promise<void> {
    this.refreshing ??= this.loadChanged().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  // A changed model is read in slices into a new object and swapped in whole, so a query never
  // sees one half loaded; the previous one serves meanwhile.
  private async loadChanged(): Promise<void> {
    this.head = await this.store.headPosition();
    for (const header of this.snapshots.headers()) {
      if (!this.projectionNames.includes(header.name)) continue;
      const known = this.models.get(header.name);
      if (known && known.position === header.position && known.failed === header.failed) continue;
      if (this.unreadable.get(header.name)?.position === header.position) continue;
      let saved;
      try {
        saved = await this.snapshots.load(header.name);
      } catch (error) {
        if (!(error instanceof SnapshotFormatError)) throw error;
        this.unreadable.set(header.name, { position: header.position, reason: error.message });
        continue;
      }
      // A model of another layout (a projector of another version, mid-upgrade) would answer
      // every query with a 500: the runner rebuilds such a model, a follower waits for a readable save.
      const accepts = this.projections.find((projection) => projection.name === header.name)?.accepts;
      if (saved && accepts && !accepts(saved.model)) {
        this.unreadable.set(header.name, { position: header.position, reason: 'its model was saved by another version of Stagecraft, with other columns: it is served once the projector, running this version, saves it again' });
        this.models.delete(header.name);
        continue;
      }
      this.unreadable.delete(header.name);
      if (saved) this.models.set(header.name, { model: saved.model, position: saved.position, ...(saved.failed !== undefined ? { failed: saved.failed } : {}) });
    }
  }
}
