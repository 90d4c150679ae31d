import { parseJsonBody } from './json-body.parser';
import { ApiProblem } from './problem';

describe('parseJsonBody', () => {
  const body = Buffer.from('{"title":"M\u00fcller"}', 'utf8');
  const outcome = (contentType: string, bytes = body) => {
    try {
      return parseJsonBody(contentType, bytes);
    } catch (error) {
      return (error as ApiProblem).code;
    }
  };

  it.each(['application/json', 'application/json; charset=utf-8', 'application/json; charset="UTF-8"', 'application/json;charset=utf8', 'application/json; foo=bar'])('reads %s as UTF-8', (contentType) => {
    expect(outcome(contentType)).toEqual({ title: 'M\u00fcller' });
  });

  it.each([
    'application/json; charset=iso-8859-1',
    // The parameters as parameters: a quoted value holding "charset=utf-8" is not the charset.
    'application/json; foo="x;charset=utf-8"; charset=latin1',
    'application/json; charset=utf-8; charset=latin1',
    'application/json; charset=',
    'application/json; charset=""',
  ])('refuses %s (415): not one UTF-8 charset', (contentType) => {
    expect(outcome(contentType)).toBe('REQUEST.UNSUPPORTED_MEDIA_TYPE');
  });

  it('refuses bytes that are not UTF-8, an empty body, and syntax, each as malformed JSON', () => {
    expect(outcome('application/json', Buffer.from('{"title":"M\u00fcller"}', 'latin1'))).toBe('REQUEST.MALFORMED_JSON');
    expect(outcome('application/json', Buffer.alloc(0))).toBe('REQUEST.MALFORMED_JSON');
    expect(outcome('application/json', Buffer.from('{"title":'))).toBe('REQUEST.MALFORMED_JSON');
  });

  it('refuses a name given twice in one object, however it is written and however deep, and names it', () => {
    const refused = (text: string) => {
      try {
        parseJsonBody('application/json', Buffer.from(text));
      } catch (error) {
        return [(error as ApiProblem).code, (error as ApiProblem).extensions];
      }
      return 'taken';
    };
    expect(refused('{"stage":"new","stage":"qualification"}')).toEqual(['REQUEST.MALFORMED_JSON', { key: 'stage' }]);
    expect(refused('{"teamId":"a","team\\u0049d":"b"}')).toEqual(['REQUEST.MALFORMED_JSON', { key: 'teamId' }]);
    expect(refused('{"a":{"b":1,"b":2}}')).toEqual(['REQUEST.MALFORMED_JSON', { key: 'b' }]);
    expect(refused('{"list":[{"x":1},{"x":2,"x":3}]}')).toEqual(['REQUEST.MALFORMED_JSON', { key: 'x' }]);
    // The same name in sibling objects, or as a value, is not a repeat.
    expect(refused('{"a":{"x":1},"b":{"x":2},"c":"a","d":["a","a"]}')).toBe('taken');
    expect(refused('{"note":"\\"stage\\":1,\\"stage\\":2"}')).toBe('taken');
  });
});
