export * from './definition.arbitrary';
