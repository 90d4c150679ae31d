/** DI token of the ProjectionRunner that keeps the read models. */
export const PROJECTION_RUNNER = Symbol('PROJECTION_RUNNER');
/** DI token of the store the read models are saved in. */
export const PROJECTION_SNAPSHOTS = Symbol('PROJECTION_SNAPSHOTS');
