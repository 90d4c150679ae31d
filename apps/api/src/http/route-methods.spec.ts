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

  it('reads a path as the router does: percent-encoding undone, an encoded slash kept inside its segment', () => {
    expect(table.allowedFor('/%6Fpportunities/abc')).toEqual(['GET', 'HEAD', 'PATCH']);
    expect(table.allowedFor('/opportunities/%E2%82%AC/m%6Fve')).toEqual(['POST']);
    expect(table.allowedFor('/opportunities/a%2Fb/move')).toEqual(['POST']);
    expect(table.allowedFor('/opportunities/a%2Fb')).toEqual(['GET', 'HEAD', 'PATCH']);
    expect(table.allowedFor('/docs%2Fopenapi.json')).toEqual([]);
    expect(table.allowedFor('/opportunities/%E2%82/move')).toEqual(['POST']); // no UTF-8: taken as it is
  });

  it('matches a static segment literally (a dot is not any character)', () => {
    expect(table.allowedFor('/docs/openapi.json')).toEqual(['GET', 'HEAD']);
    expect(table.allowedFor('/docs/openapiXjson')).toEqual([]);
    expect(table.allowedFor('/colour')).toEqual([]);
  });
});
