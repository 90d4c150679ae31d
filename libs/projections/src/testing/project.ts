import { applyEvent, type EventShape, type Projection, type ProjectedEvent } from '../projection.types';

/** Applies events as the runner does: only the events the projection reads reach evolve. */
export function project<Model, Event extends EventShape>(projection: Projection<Model, Event>, events: readonly ProjectedEvent[], model: Model = projection.initial()): Model {
  let current = model;
  for (const event of events) current = applyEvent(projection, current, event);
  return current;
}
