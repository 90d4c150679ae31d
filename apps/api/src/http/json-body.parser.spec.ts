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

describe('parseJsonBody: numbers stored as written', () => {
  const answer = (text: string) => {
    try {
      return parseJsonBody('application/json', Buffer.from(text));
    } catch (error) {
      return { code: (error as ApiProblem).code, errors: (error as ApiProblem).extensions?.errors };
    }
  };

  it.each([
    ['{"amount":999999999999999.9999}', 'amount', '999999999999999.9999 cannot be stored as written (it would be recorded as 1000000000000000)'],
    ['{"title":"a","amount":9007199254740993}', 'amount', '9007199254740993 cannot be stored as written (it would be recorded as 9007199254740992)'],
    ['{"amount" : 0.30000000000000000001}', 'amount', '0.30000000000000000001 cannot be stored as written (it would be recorded as 0.3)'],
    ['{"a":{"amount":1e400}}', 'amount', '1e400 cannot be stored as written (it is past the largest number that can be stored)'],
    ['{"list":[1, 2.00000000000000000001]}', 'list', '2.00000000000000000001 cannot be stored as written'],
    ['123456789012345678', '(body)', '123456789012345678 cannot be stored as written'],
  ])('refuses %s, naming %s', (text, field, message) => {
    expect(answer(text)).toEqual({ code: 'REQUEST.VALIDATION_FAILED', errors: [{ field, message: expect.stringContaining(message) }] });
  });

  it.each([
    ['{"amount":12.50}', { amount: 12.5 }],
    ['{"amount":-0.0}', { amount: -0 }],
    ['{"amount":0.1,"b":1E2,"c":1.5e-7,"d":00}'.replace('00', '0'), { amount: 0.1, b: 100, c: 1.5e-7, d: 0 }],
    ['{"amount":999999999999999}', { amount: 999999999999999 }],
    ['{"amount":123456789012.5}', { amount: 123456789012.5 }],
    ['{"amount":1e21,"x":1000000000000000000000}', { amount: 1e21, x: 1e21 }],
    // Digits in strings are text: never read as numbers.
    ['{"title":"999999999999999.9999","note":"\\"9007199254740993\\""}', { title: '999999999999999.9999', note: '"9007199254740993"' }],
  ])('takes %s as written', (text, parsed) => {
    expect(answer(text)).toEqual(parsed);
  });
});
