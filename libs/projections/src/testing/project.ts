import type { Projection, ProjectedEvent } from '../projection.types';

/** Applies events as the runner does: only the types the projection handles reach evolve. */
export function project<Model>(projection: Projection<Model>, events: readonly ProjectedEvent[], model: Model = projection.initial()): Model {
  let current = model;
  for (const event of events) if (projection.handles.has(event.type)) current = projection.evolve(current, event);
  return current;
}
