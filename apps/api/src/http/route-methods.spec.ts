import { RouteMethods } from './route-methods';

describe('RouteMethods', () => {
  const table = new RouteMethods();
  table.add('/opportunities/:id', ['GET']);
  table.add('/opportunities/:id', ['PATCH']);
  table.add('/opportunities/:id/move', ['POST']);
  table.add('/docs/openapi.json', ['GET']);
  table.add('/files/*', ['GET', 'HEAD']);
  table.add('/', ['GET']);

  it('gathers every method of a path, HEAD with GET, whatever route registered it', () => {
    expect(table.allowedFor('/opportunities/abc')).toEqual(['GET', 'HEAD', 'PATCH']);
    expect(table.allowedFor('/opportunities/abc/move?stage=x')).toEqual(['POST']);
    expect(table.allowedFor('/')).toEqual(['GET', 'HEAD']);
  });

  it('takes a parameter as one non-empty segment, and a wildcard as anything below it', () => {
    expect(table.allowedFor('/opportunities//move')).toEqual([]);
    expect(table.allowedFor('/opportunities/a/b/move')).toEqual([]);
    expect(table.allowedFor('/files/a/b.js')).toEqual(['GET', 'HEAD']);
  });

  it('matches a static segment literally (a dot is not any character)', () => {
    expect(table.allowedFor('/docs/openapi.json')).toEqual(['GET', 'HEAD']);
    expect(table.allowedFor('/docs/openapiXjson')).toEqual([]);
    expect(table.allowedFor('/colour')).toEqual([]);
  });
});
