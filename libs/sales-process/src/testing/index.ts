export * from './definition.arbitrary';
export * from './definition-rules.oracle';
