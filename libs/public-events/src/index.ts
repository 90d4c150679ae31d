export * from './public-event.types';
export * from './public-event.mapping';
export * from './public-event.schemas';
export * from './asyncapi.document';
export { examplePublicEvents } from './public-event.examples';
