import type { OpportunityEvent } from '@stagecraft/opportunity';
import type { ProcessVersionRecordedData } from '@stagecraft/sales-process';

// A projection turns the global event log into a read model. Each read model is a pure function
// of the events it has seen, in log order: `evolve(model, event)` returns the model after the
// event. Implementations may update the model in place and return it (a rebuild of a million
// events cannot afford a copy per event); callers never keep an old reference.

/** An event of the global log as stored: any stream, in position order, its data untyped. */
export interface ProjectedEvent {
  readonly position: number;
  readonly stream: string;
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/** A process definition's version, recorded in `sales-process-<id>`. */
export interface ProcessVersionRecorded {
  readonly type: 'ProcessVersionRecorded';
  readonly data: ProcessVersionRecordedData;
}

/** Every event a read model can read: the opportunity events, and the process versions. */
export type ProjectableEvent = OpportunityEvent | ProcessVersionRecorded;
export type ProjectableEventType = ProjectableEvent['type'];

/** The least a projection's event type says: its type name and its data. */
export interface EventShape {
  readonly type: string;
  readonly data: unknown;
}

/** Any logged event, untyped: what a projection reads unless it names its events. */
export type UntypedEvent = Pick<ProjectedEvent, 'type' | 'data'>;

/** An event a projection reads, typed by the event union it names, with where it sits in the log. */
export type ProjectionEvent<Event extends EventShape = ProjectableEvent> = Event & { readonly position: number; readonly stream: string };

/** A read model's name, typed by the model it holds: how a query asks for one. */
export interface ReadModelKey<Model> {
  readonly name: string;
  /** Never set: carries the model's type to `ReadModels.model(key)`. */
  readonly __model?: (model: Model) => Model;
}

/**
 * A read model and how it follows the log. The read models of Stagecraft name their events from
 * the event union (`ProjectableEvent`; see opportunity-projection.factory.ts); the runner itself
 * works with any events.
 */
export interface Projection<Model, Event extends EventShape = UntypedEvent> extends ReadModelKey<Model> {
  /** Event types the projection reads (the store may filter on them); every other event is skipped. */
  readonly handles: ReadonlySet<Event['type']>;
  /** Whether a logged event is one this projection reads; absent: its type is one of `handles`. */
  canHandle?(event: Pick<ProjectedEvent, 'type' | 'stream'>): boolean;
  initial(): Model;
  evolve(model: Model, event: ProjectionEvent<Event>): Model;
  /**
   * Whether a model loaded from a snapshot has the layout this code folds into; absent means any.
   * A refused snapshot (saved by an older version whose columns differ) is set aside and the
   * projection replays the log from 0.
   */
  accepts?(saved: unknown): boolean;
}

/**
 * Folds one logged event into a model, if the projection reads it. The one place a stored event
 * is taken for a typed one: its type and stream were checked, and its data is what decide wrote
 * (the hash chain vouches for it).
 */
export function applyEvent<Model, Event extends EventShape>(projection: Projection<Model, Event>, model: Model, event: ProjectedEvent): Model {
  const reads = projection.canHandle ? projection.canHandle(event) : (projection.handles as ReadonlySet<string>).has(event.type);
  return reads ? projection.evolve(model, event as unknown as ProjectionEvent<Event>) : model;
}

/** Filters every analytics query accepts where they make sense. `from`/`to` bound occurredAt (ISO 8601 with a zone, inclusive). */
export interface AnalyticsFilter {
  readonly processId?: string;
  readonly teamId?: string;
  readonly ownerId?: string;
  readonly from?: string;
  readonly to?: string;
}
