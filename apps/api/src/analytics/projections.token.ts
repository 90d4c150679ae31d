/** DI token of the ReadModels the analytics read: the in-process runner or a snapshot follower. */
export const READ_MODELS = Symbol('READ_MODELS');
/** DI token of the store the read models are saved in. */
export const PROJECTION_SNAPSHOTS = Symbol('PROJECTION_SNAPSHOTS');
