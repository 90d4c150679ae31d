import { modelsStoppedForGood, rebuildInstruction, type ReadModels } from '@stagecraft/projections';

/**
 * What the projector says once its start is over: caught up, or, when read models stopped for good
 * on the way (the log no longer reads, an event they cannot fold), which ones and how to rebuild
 * them. "Caught up" alone would tell an operator all was well over models that serve nothing.
 */
export function startedLine(readModels: Pick<ReadModels, 'status' | 'position' | 'names'>, savedIn: string): string {
  const stopped = modelsStoppedForGood(readModels.status(), readModels.names()).map((status) => status.name);
  if (stopped.length === 0) return `Stagecraft projector caught up at position ${readModels.position()}; read models in ${savedIn}`;
  const others = readModels.names().length - stopped.length;
  return [
    `Stagecraft projector started, but read models stopped (said above): ${stopped.join(', ')}.`,
    `Fix the cause, then rebuild ${stopped.length === 1 ? 'it' : 'them'}${rebuildInstruction(stopped, { projectedElsewhere: true })}.`,
    others === 0 ? `Read models in ${savedIn}` : `The others caught up at position ${readModels.position()}; read models in ${savedIn}`,
  ].join(' ');
}
