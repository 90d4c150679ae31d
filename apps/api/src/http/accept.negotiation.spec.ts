import { preferredMediaType } from './accept.negotiation';

const OFFERED = ['application/json', 'text/csv'];

describe('preferredMediaType', () => {
  it.each([
    [undefined, 'application/json'],
    ['', 'application/json'],
    ['*/*', 'application/json'],
    ['application/json', 'application/json'],
    ['text/csv', 'text/csv'],
    ['text/*', 'text/csv'],
    ['TEXT/CSV', 'text/csv'],
    ['text/csv;q=0.1, application/json', 'application/json'],
    ['text/csv, application/json;q=0.5', 'text/csv'],
    ['text/csv;q=0, */*', 'application/json'],
    ['application/json;q=0, */*;q=0.2', 'text/csv'],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'application/json'],
    ['text/csv; charset=utf-8', 'text/csv'],
    ['not a media type', 'application/json'],
  ])('Accept %j answers %s', (accept, expected) => {
    expect(preferredMediaType(accept, OFFERED)).toBe(expected);
  });

  it.each(['text/html', 'application/xml', 'text/csv;q=0', 'application/json;q=0, text/csv;q=0', 'image/*'])('Accept %j takes none of them', (accept) => {
    expect(preferredMediaType(accept, OFFERED)).toBeUndefined();
  });
});
