// A projection turns the global event log into a read model. Each read model is a pure function
// of the events it has seen, in log order: `evolve(model, event)` returns the model after the
// event. Implementations may update the model in place and return it (a rebuild of a million
// events cannot afford a copy per event); callers never keep an old reference.

/** An event as the projections see it: any stream of the global log, in position order. */
export interface ProjectedEvent {
  readonly position: number;
  readonly stream: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

export interface Projection<Model> {
  readonly name: string;
  /** Event types the projection reads; every other event is skipped without calling evolve. */
  readonly handles: ReadonlySet<string>;
  initial(): Model;
  evolve(model: Model, event: ProjectedEvent): Model;
  /**
   * Whether a model loaded from a snapshot has the layout this code folds into; absent means any.
   * A refused snapshot (saved by an older version whose columns differ) is set aside and the
   * projection replays the log from 0.
   */
  accepts?(saved: unknown): boolean;
}

/** Filters every analytics query accepts where they make sense. `from`/`to` bound occurredAt (ISO 8601, inclusive). */
export interface AnalyticsFilter {
  readonly processId?: string;
  readonly teamId?: string;
  readonly ownerId?: string;
  readonly from?: string;
  readonly to?: string;
}
