import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { readLines } from './line-reader';

async function lines(chunks: string[], maxLength = Infinity): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const line of readLines(Readable.from(chunks), maxLength)) out.push('text' in line ? line.text : 'too long');
  return out;
}

describe('reading an import file line by line', () => {
  it('splits as readline does, whatever the chunk boundaries', async () => {
    const text = 'one\r\ntwo\nthree\rfour\r\n\r\nsix\n\nlast';
    const expected: string[] = [];
    for await (const line of createInterface({ input: Readable.from([text]), crlfDelay: Infinity })) expected.push(line);
    expect(await lines([text])).toEqual(expected);
    for (let split = 0; split <= text.length; split += 1) {
      expect(await lines([text.slice(0, split), text.slice(split)])).toEqual(expected);
    }
  });

  it('answers a line longer than the limit as such, and reads on', async () => {
    expect(await lines(['ab', 'cdef\r', '\nok\n', 'x'.repeat(9)], 5)).toEqual(['too long', 'ok', 'too long']);
    expect(await lines(['abcde\nabcdef\n'], 5)).toEqual(['abcde', 'too long']);
  });
});
