import { ValidationPipe, type ArgumentMetadata } from '@nestjs/common';
import { createValidationPipe, VALIDATION_OPTIONS } from './validation';

// What the API's pipe does not validate (a path or query value typed as a primitive) it answers at
// once instead of as a promise: the answer must be the one Nest's ValidationPipe gives.
describe('the API validation pipe, for values it does not validate', () => {
  const nest = new ValidationPipe(VALIDATION_OPTIONS);
  const api = createValidationPipe();

  it.each<[unknown, ArgumentMetadata]>([
    ['6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b', { type: 'param', metatype: String, data: 'id' }],
    ['12', { type: 'param', metatype: Number, data: 'n' }],
    ['true', { type: 'query', metatype: Boolean, data: 'flag' }],
    [undefined, { type: 'query', metatype: Number, data: 'n' }],
    [{ a: '1' }, { type: 'query', metatype: Object, data: undefined }],
    ['x', { type: 'custom', metatype: String, data: undefined }],
    ['x', { type: 'param', metatype: undefined, data: 'id' }],
  ])('passes %p (%j) on as ValidationPipe does, without a promise', async (value, metadata) => {
    const answer = api.transform(value, metadata);
    expect(answer).not.toBeInstanceOf(Promise);
    expect(answer).toEqual(await nest.transform(value, metadata));
  });
});
