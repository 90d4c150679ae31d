export * from './instant';
export * from './opportunity-stream';
export * from './opportunity.commands';
export * from './opportunity.decide';
export * from './opportunity.errors';
export * from './opportunity.events';
export * from './opportunity.evolve';
export * from './opportunity.state';
