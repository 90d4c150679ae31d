import { spawnSync } from 'node:child_process';
import { childNodeArgs } from '../../../test/support/child-entry';

// A setting's file given as bash's process substitution, `JWT_PUBLIC_KEY=<(vault read …)`: the
// service gets /dev/fd/<n>, the read end of a pipe (not a FIFO on disk). Jest cannot hold such a
// pipe itself, so each case runs readPipedText in a child that bash hands one to.

const SCRIPT = `
const [modulePath, file] = process.argv.slice(1);
const { readPipedText } = require(modulePath);
const started = Date.now();
try {
  console.log(JSON.stringify({ text: readPipedText(file), ms: Date.now() - started }));
} catch (error) {
  console.log(JSON.stringify({ error: error.message, ms: Date.now() - started }));
}`;

function readThroughSubstitution(substituted: string): { text?: string; error?: string; ms: number } {
  const args = childNodeArgs('libs/config/src/piped-file');
  const child = spawnSync('bash', ['-c', `exec "$@" 3< <(${substituted})`, 'bash', process.execPath, ...args.slice(0, -1), '-e', SCRIPT, args.at(-1)!, '/dev/fd/3'], { encoding: 'utf8', timeout: 60_000 });
  expect(child.stderr).toBe('');
  return JSON.parse(child.stdout) as { text?: string; error?: string; ms: number };
}

describe('a setting file given as <(…)', () => {
  it('is read as its writer writes it, one that starts late included', () => {
    expect(readThroughSubstitution('printf key')).toMatchObject({ text: 'key' });
    expect(readThroughSubstitution('sleep 0.5; printf late')).toMatchObject({ text: 'late' });
  });

  it.each(['true', 'exit 3', 'printf ""'])('whose writer ended without writing anything (<(%s)) is refused at once: no writer can come any more', (substituted) => {
    const read = readThroughSubstitution(substituted);
    expect(read.error).toMatch(/^\/dev\/fd\/3 is a pipe whose writer ended without writing anything/);
    expect(read.ms).toBeLessThan(2_000);
  });
});
