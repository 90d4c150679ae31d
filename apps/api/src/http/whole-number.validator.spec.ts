import { plainToInstance } from 'class-transformer';
import { IsOptional, validateSync } from 'class-validator';
import { WholeNumberBetween, wholeNumberOf } from './whole-number.validator';

class Page {
  @IsOptional()
  @WholeNumberBetween(0, Number.MAX_SAFE_INTEGER)
  fromRevision?: number;

  @IsOptional()
  @WholeNumberBetween(0)
  minPosition?: number;
}

// Each broken rule gives the one message (the API lists it once).
const errorsOf = (query: Record<string, string>) => [...new Set(validateSync(plainToInstance(Page, query)).flatMap((error) => Object.values(error.constraints ?? {})))];

describe('a whole-number query parameter', () => {
  it('reads decimal digits only, every safe integer exactly', () => {
    expect(['0', '7', '-3', '999999999999999', '9007199254740991', '-9007199254740991'].map(wholeNumberOf)).toEqual([0, 7, -3, 999_999_999_999_999, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]);
    // Beyond the safe integers a number would not be the one written: left as text, to be refused.
    expect(['9007199254740992', '12345678901234567', '+1', '0x10', '1e3', ' 5', '', '1.0'].map(wholeNumberOf)).toEqual(['9007199254740992', '12345678901234567', '+1', '0x10', '1e3', ' 5', '', '1.0']);
  });

  // A number written another way than its one canonical form is refused as +1 and 1e3 are: -0 was
  // 0 (and passed "at least 0"), 007 was 7, and 0000000000000001 was 1 where one zero more was refused.
  it('refuses a number not written the one way: -0, leading zeros', () => {
    const other = ['-0', '00', '01', '007', '-01', '-00', '0000000000000001'];
    expect(other.map(wholeNumberOf)).toEqual(other);
    const message = `minPosition must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`;
    for (const value of other) expect([value, errorsOf({ minPosition: value })]).toEqual([value, [message]]);
  });

  it('takes every value of the range its message gives, and refuses the first one past it', () => {
    expect(errorsOf({ fromRevision: String(Number.MAX_SAFE_INTEGER), minPosition: '1000000000000000' })).toEqual([]);
    expect(errorsOf({ fromRevision: '9007199254740992' })).toEqual([`fromRevision must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`]);
  });

  it('names the upper bound of a parameter declared without one: a whole number past the safe integers is not "of at least 0"', () => {
    const message = `minPosition must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`;
    expect(errorsOf({ minPosition: String(Number.MAX_SAFE_INTEGER) })).toEqual([]);
    for (const value of ['9007199254740992', '99999999999999999999', 'abc', '-1']) expect(errorsOf({ minPosition: value })).toEqual([message]);
  });
});
