import { InvalidArgumentError } from 'commander';
import { EXIT } from './cli.errors';
import { concurrency, positiveInteger, runCli } from './cli.program';

// The number options' refusals say what would be taken: a position of 16 digits or more is a
// whole number of 1 or more, so being told it must be one leaves the operator guessing.
describe('the CLI number options', () => {
  const refusal = (parse: (text: string) => number, text: string) => {
    try {
      parse(text);
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidArgumentError);
      return (error as Error).message;
    }
    throw new Error(`${text} was taken`);
  };

  it('take whole numbers in decimal digits, up to 15 of them', () => {
    expect(positiveInteger('1')).toBe(1);
    expect(positiveInteger('999999999999999')).toBe(999_999_999_999_999);
    expect(concurrency('256')).toBe(256);
  });

  it('refuse what is not a whole number of 1 or more as such', () => {
    for (const text of ['0', '-1', '1.5', '0x10', '1e3', ' ', '', 'abc']) expect(refusal(positiveInteger, text)).toBe('must be a whole number of 1 or more');
  });

  it('refuse a whole number past the largest they take by naming that largest, not as if it were no whole number', () => {
    expect(refusal(positiveInteger, '1000000000000000')).toBe('must be a whole number from 1 to 999999999999999');
    expect(refusal(positiveInteger, '99999999999999999999')).toBe('must be a whole number from 1 to 999999999999999');
    expect(refusal(concurrency, '100000')).toBe('must be a whole number from 1 to 256');
    expect(refusal(concurrency, '99999999999999999999')).toBe('must be a whole number from 1 to 256');
  });

  it('read an option given twice as commander hands it (with the previous value), by the value alone', () => {
    expect((positiveInteger as (text: string, previous: unknown) => number)('1000', 1)).toBe(1000);
  });

  // Commander keeps the last of an option given twice, without a word: `relay replay --from 120
  // --from 12` (a line edited in a shell's history) would replay from 12, not what was read first.
  it('refuse an option that takes a value given twice, naming it, before anything runs', async () => {
    const written: string[] = [];
    const stderr = jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
    try {
      for (const argv of [
        ['relay', 'replay', '--sink', 'http://127.0.0.1:9/h', '--from', '120', '--from', '12'],
        ['relay', 'discard', '--sink=http://127.0.0.1:9/h', '--sink', 'http://127.0.0.1:8/h', '--position', '1'],
        ['import', 'x.csv', '--concurrency', '4', '--concurrency=8'],
      ]) {
        written.length = 0;
        expect(await runCli(argv)).toBe(EXIT.usage);
        expect(written.join('')).toMatch(/^error: option '--[a-z]+ <[a-z]+>' is given twice: give it once\n/);
      }
    } finally {
      stderr.mockRestore();
    }
  });
});
