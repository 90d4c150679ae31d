import { firstRepeatedName } from './json-duplicate-keys';

describe('firstRepeatedName', () => {
  it.each([
    ['{"keys":[1],"keys":[]}', 'keys'],
    ['{"a":{"b":1,"b":2}}', 'b'],
    ['[{"id":1},{"id":2,"x":"\\"","id":3}]', 'id'],
    ['{"k\\u0065ys":1,"keys":2}', 'keys'],
  ])('finds the name given twice in one object of %s', (text, name) => {
    expect(firstRepeatedName(text)).toBe(name);
  });

  it.each(['{"a":1,"b":{"a":2}}', '[{"a":1},{"a":2}]', '{"a":"a","b":["a","a"]}', '{"a\\"b":1,"a":2}', '"text"', '[]', '{}'])('finds none in %s (the same name in different objects, or as a value)', (text) => {
    expect(firstRepeatedName(text)).toBeUndefined();
  });
});
