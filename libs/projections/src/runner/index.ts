export * from './projection-snapshot.store';
export * from './projection.runner';
export * from './sqlite-projection-snapshot.store';
export * from './read-models.port';
export * from './snapshot-follower';
export * from './model-serialization';
export * from './projection-maintenance';
export * from './projection-stores';
