import type { ReadModelKey } from '../projection.types';

/** Where the read models are served from: the runner itself, or another process's snapshots. */
export interface ReadModels {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The model of one projection (the projection itself is the typed key), as of `position()`. */
  model<Model>(key: ReadModelKey<Model>): Model;
  names(): string[];
  /** The log position every working projection has folded in. */
  position(): number;
  status(): ProjectionStatus[];
  /** Why a projection stopped, or undefined while it works. */
  failure(name: string): string | undefined;
  /**
   * Why the models this process keeps could not be saved lately (a full disk under their file),
   * until a save succeeds again; absent where this process saves nothing (it serves another's).
   */
  cannotSave?(): string | undefined;
  /** Resolves true once every working projection has folded in `position`, false after `timeoutMs`. */
  waitFor(position: number, timeoutMs: number): Promise<boolean>;
  /** Rebuilds one projection from position 0 while the current model keeps serving. */
  rebuild(name: string, onProgress?: (progress: { position: number; head: number }) => void): Promise<void>;
  /**
   * Set where this process serves the models another process projects (PROJECTIONS=external):
   * rebuilds run there, so a stop names the projector's command, not this API's route (which
   * would only answer PROJECTION.REBUILD_ELSEWHERE).
   */
  readonly projectedElsewhere?: true;
}

/**
 * How an operator rebuilds the read models `names` that `readModels` serves, as the words that
 * follow "rebuild it" (or "them"): this API's route for each where this process projects, the
 * projector's command where another process does.
 */
export function rebuildInstruction(names: readonly string[], readModels: Pick<ReadModels, 'projectedElsewhere'>): string {
  return readModels.projectedElsewhere
    ? ` in the projector process: stop it, run npm run projections -- rebuild ${names.join(' ')}, and start it again`
    : `: ${names.map((name) => `POST /admin/projections/${name}/rebuild`).join(', ')}`;
}

export interface ProjectionStatus {
  readonly name: string;
  /** Last log position folded into the model. */
  readonly checkpoint: number;
  /** Log head minus checkpoint: how far behind the model is. */
  readonly lag: number;
  readonly rebuilding: boolean;
  /** Why the projection stopped, when an event could not be folded into it; it serves no more. */
  readonly failed?: string;
  /**
   * With `failed`: the cause passes by itself (the event log or the read side's database cannot be
   * reached now) and the projection follows again once it answers. Without it, `failed` is a stop
   * an operator must fix.
   */
  readonly recovering?: true;
  /**
   * Why it does not move while the log is ahead: the PostgreSQL projector's batch has waited past
   * its stall bound (a lock another session holds, a server that does not answer). It serves what
   * it had; an operator should look (the text says at what).
   */
  readonly stalled?: string;
}

/**
 * Why a read-your-writes wait for the read models `names` would be in vain: one of them stopped for
 * good (neither working nor recovering), so the answer that reads it is a stop, whatever the wait.
 * Undefined while each may still move (a recovering one is waited for).
 */
export function stoppedForGood(statuses: readonly ProjectionStatus[], names: readonly string[]): string | undefined {
  return modelsStoppedForGood(statuses, names)[0]?.failed;
}

/** The read models among `names` that stopped for good (neither working nor recovering): each must be rebuilt. */
export function modelsStoppedForGood(statuses: readonly ProjectionStatus[], names: readonly string[]): ProjectionStatus[] {
  return statuses.filter((status) => names.includes(status.name) && status.failed !== undefined && !status.recovering);
}
