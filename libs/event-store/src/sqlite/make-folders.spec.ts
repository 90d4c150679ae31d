import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFolders } from './make-folders';

describe('makeFolders', () => {
  const dir = mkdtempSync(join(tmpdir(), 'make-folders-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('makes every missing folder of a path, and takes one that exists', () => {
    const deep = join(dir, 'a', 'b', 'c');
    makeFolders(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    expect(() => makeFolders(deep)).not.toThrow();
  });

  it('throws the error of the first folder it cannot make: through a file, or where nothing can be made', () => {
    const file = join(dir, 'plain.txt');
    writeFileSync(file, 'x');
    expect(() => makeFolders(join(file, 'sub', 'deeper'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    // Node's recursive mkdirSync never returns here (procfs answers ENOENT at every level).
    expect(() => makeFolders('/proc/stagecraft-no-such/deeper')).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
