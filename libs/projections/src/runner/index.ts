export * from './projection-snapshot.store';
export * from './projection.runner';
export * from './sqlite-projection-snapshot.store';
