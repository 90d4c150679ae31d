import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOutput } from './output';

// `--out` names a file the export is written beside first (.<name>.partial-<pid>): a refusal must
// speak of the file the operator named and what to do, not of that hidden one.

describe('an export file that cannot be made', () => {
  const dir = mkdtempSync(join(tmpdir(), 'output-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the file given and why, never the hidden partial file', async () => {
    const notAFolder = join(dir, 'plain.txt');
    writeFileSync(notAFolder, 'x');
    const cases: [string, RegExp][] = [
      [join(dir, 'missing', 'x.jsonl'), /^Cannot write .*missing\/x\.jsonl: its folder .*missing does not exist; make it first/],
      [join(notAFolder, 'x.jsonl'), /^Cannot write .*plain\.txt\/x\.jsonl: .*plain\.txt is not a folder\.$/],
    ];
    for (const [file, message] of cases) {
      const output = openOutput(file);
      const failure = await output.write('line\n').then(() => undefined, (error: Error) => error);
      expect(failure?.message).toMatch(message);
      expect(failure?.message).not.toContain('.partial-');
      output.abandon();
    }
  });
});
