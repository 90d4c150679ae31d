import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessDefinitionError } from '@stagecraft/sales-process';
import { loadProcessDirectory } from './process-files.loader';

const SHIPPED = join(__dirname, '..', '..', '..', 'config', 'processes');
const minimal = (id: string) => `id: ${id}\nname: ${id}\nstages: [{ id: a, name: A, probability: 1 }]\nlostReasons: [other]\n`;

describe('loadProcessDirectory', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-processes-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the shipped processes: the seed and a second team\'s', () => {
    const loaded = loadProcessDirectory(SHIPPED);
    expect(loaded.map((entry) => entry.definition.id)).toEqual(['inside-sales', 'standard']);
  });

  it('names the file that is wrong', () => {
    writeFileSync(join(dir, 'a.yaml'), minimal('a'));
    writeFileSync(join(dir, 'b.yaml'), minimal('b').replace('probability: 1', 'probability: 101'));
    expect(() => loadProcessDirectory(dir)).toThrow(ProcessDefinitionError);
    expect(() => loadProcessDirectory(dir)).toThrow(/b\.yaml:3:\d+ stages\[0\]\.probability: must be a number from 0 to 100 \(got 101\)/);
  });

  it('refuses two files with the same process id, naming both files and the line of each id', () => {
    writeFileSync(join(dir, 'a.yaml'), minimal('same'));
    // The id further down, as a file that opens with comments writes it.
    writeFileSync(join(dir, 'b.yml'), `# Inside sales\n# owner: ops\n${minimal('same')}`);
    expect(() => loadProcessDirectory(dir)).toThrow(/b\.yml:3:5 id: process id "same" is already defined in a\.yaml:1$/m);
  });

  it('knows the default process: the shipped standard one says so, a non-boolean default is refused, two defaults are refused', () => {
    expect(loadProcessDirectory(SHIPPED).map((entry) => [entry.definition.id, entry.isDefault])).toEqual([
      ['inside-sales', false],
      ['standard', true],
    ]);
    writeFileSync(join(dir, 'a.yaml'), `${minimal('a')}default: yes please\n`);
    expect(() => loadProcessDirectory(dir)).toThrow(/a\.yaml:\d+:\d+ default: must be true or false \(got "yes please"\)/);
    writeFileSync(join(dir, 'a.yaml'), `${minimal('a')}default: true\n`);
    writeFileSync(join(dir, 'b.yaml'), `${minimal('b')}default: true\n`);
    expect(() => loadProcessDirectory(dir)).toThrow(/b\.yaml:5:10 default: only one process may be the default; a\.yaml:5 already is/);
    // The mark is not part of the definition: marking a process as the default records no new version.
    writeFileSync(join(dir, 'b.yaml'), minimal('b'));
    const [marked] = loadProcessDirectory(dir);
    expect([marked!.isDefault, Object.keys(marked!.definition)]).toEqual([true, expect.not.arrayContaining(['default'])]);
  });

  it('refuses an empty or missing directory', () => {
    expect(() => loadProcessDirectory(dir)).toThrow(/holds no process definition/);
    expect(() => loadProcessDirectory(join(dir, 'missing'))).toThrow(/does not exist/);
  });

  // The folder itself is a setting to correct: named as the variable, then the path and why, in one line.
  it.each([
    ['missing', () => join(dir, 'missing'), 'does not exist'],
    ['a file', () => (writeFileSync(join(dir, 'file'), ''), join(dir, 'file')), 'is a file, not a folder'],
    ['a symbolic link that loops', () => (symlinkSync(join(dir, 'loop'), join(dir, 'loop')), join(dir, 'loop')), 'is a symbolic link that loops back on itself'],
    ['a symbolic link to nothing', () => (symlinkSync(join(dir, 'gone'), join(dir, 'dangling')), join(dir, 'dangling')), 'is a symbolic link to <dir>/gone, which does not exist'],
    ['empty', () => dir, 'holds no process definition (*.yaml); add at least one'],
  ])('names PROCESSES_DIR, the folder and the reason when it is %s', (_case, folder, reason) => {
    const path = folder();
    expect(() => loadProcessDirectory(path)).toThrow(ProcessDefinitionError);
    expect(() => loadProcessDirectory(path)).toThrow(new Error(`Invalid setting PROCESSES_DIR: ${path} ${reason.replace('<dir>', dir)}`));
  });

  // A file in it that cannot be read is named with the reason in words, as the folder is, not as the system's error code.
  it.each([
    ['a symbolic link that loops', (file: string) => symlinkSync(file, file), 'is a symbolic link that loops back on itself'],
    ['a symbolic link to nothing', (file: string) => symlinkSync(join(dir, 'gone.yaml'), file), 'is a symbolic link to <dir>/gone.yaml, which does not exist'],
  ])('names a process file that is %s and why', (_case, make, reason) => {
    writeFileSync(join(dir, 'a.yaml'), minimal('a'));
    const file = join(dir, 'b.yaml');
    make(file);
    let message = '';
    try {
      loadProcessDirectory(dir);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain(`${file} (document): ${reason.replace('<dir>', dir)}`);
  });

  it('names a path too long for the system without printing all of it', () => {
    const path = join(dir, 'x'.repeat(5_000));
    let message = '';
    try {
      loadProcessDirectory(path);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^Invalid setting PROCESSES_DIR: .*… \(5\d{3} characters\) is longer than a path may be$/);
    expect(message.length).toBeLessThan(400);
  });
});
