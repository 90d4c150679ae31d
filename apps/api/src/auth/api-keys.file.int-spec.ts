import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateApiKey } from './api-key.credentials';
import { readApiKeysFile, updateApiKeysFile, withoutKey, writeApiKeysFile } from './api-keys.file';
import { FileLockTimeoutError, withFileLock, withFileLockSync } from './file-lock';

const ROOT = join(__dirname, '..', '..', '..', '..');
const key = (name: string) => generateApiKey({ name, roles: ['analyst'] }, new Date('2026-01-01T00:00:00Z')).stored;

describe('the keys file', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'stagecraft-keys-'));
    file = join(dir, 'api-keys.json');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('is replaced atomically, owner-only, leaving no temporary file behind', () => {
    writeApiKeysFile(file, [key('a')]);
    writeApiKeysFile(file, [key('a'), key('b')]);
    expect(readApiKeysFile(file).map((entry) => entry.name)).toEqual(['a', 'b']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['api-keys.json']);
  });

  it('loses no change when 40 updates race in one process', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => updateApiKeysFile(file, ({ keys }) => ({ keys: [...keys, key(`k${i}`)], result: undefined }))));
    expect(readApiKeysFile(file).map((entry) => entry.name).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `k${i}`).sort());
    expect(readdirSync(dir)).toEqual(['api-keys.json']);
  });

  it('loses no change when processes race, each adding keys in a loop', async () => {
    const script = `
      const { generateApiKey } = require('./apps/api/src/auth/api-key.credentials');
      const { updateApiKeysFile } = require('./apps/api/src/auth/api-keys.file');
      (async () => {
        for (let i = 0; i < 10; i += 1) {
          const { stored } = generateApiKey({ name: process.argv[1] + '-' + i, roles: ['analyst'] }, new Date());
          await updateApiKeysFile(${JSON.stringify(file)}, ({ keys }) => ({ keys: [...keys, stored], result: undefined }));
        }
      })();`;
    const runs = ['p', 'q', 'r'].map(
      (name) =>
        new Promise<number | null>((resolve) => {
          const child = spawn(process.execPath, ['-r', '@swc-node/register', '-e', script, name], { cwd: ROOT, stdio: 'inherit' });
          child.once('exit', resolve);
        }),
    );
    await Promise.all([...runs, ...Array.from({ length: 10 }, (_, i) => updateApiKeysFile(file, ({ keys }) => ({ keys: [...keys, key(`here-${i}`)], result: undefined })))]);
    expect(await Promise.all(runs)).toEqual([0, 0, 0]);
    expect(readApiKeysFile(file)).toHaveLength(40);
  }, 60_000);

  it('is left as it is when a change gives back the list it was given: a revoke of no key writes nothing, and makes no file', async () => {
    await expect(updateApiKeysFile(file, ({ keys }) => withoutKey(keys, 'abcdef012345'))).resolves.toBe(false);
    expect(existsSync(file)).toBe(false);
    await updateApiKeysFile(file, ({ keys, exists }) => {
      expect(exists).toBe(false);
      return { keys: [...keys, key('k1')], result: undefined };
    });
    const written = readFileSync(file, 'utf8');
    const { mtimeMs } = statSync(file);
    await expect(updateApiKeysFile(file, ({ keys }) => withoutKey(keys, 'abcdef012345'))).resolves.toBe(false);
    expect([readFileSync(file, 'utf8'), statSync(file).mtimeMs]).toEqual([written, mtimeMs]);
    await expect(updateApiKeysFile(file, ({ keys }) => withoutKey(keys, readApiKeysFile(file)[0]!.id))).resolves.toBe(true);
    expect(readApiKeysFile(file)).toEqual([]);
  });

  it('refuses a FIFO in its place instead of waiting for a writer for ever, and Latin-1 text', () => {
    execFileSync('mkfifo', [file]);
    expect(() => readApiKeysFile(file)).toThrow(/cannot be read: it is a FIFO, not a file/);
    rmSync(file);
    writeFileSync(file, Buffer.from(JSON.stringify({ keys: [{ ...key('caf\u00e9'), name: 'caf\u00e9' }] }), 'latin1'));
    expect(() => readApiKeysFile(file)).toThrow(/not UTF-8 text/);
  });

  it('is not overwritten while it does not parse', async () => {
    writeFileSync(file, '{ "keys": [');
    await expect(updateApiKeysFile(file, ({ keys }) => ({ keys: [...keys, key('x')], result: undefined }))).rejects.toThrow(/not valid JSON/);
    expect(readFileSync(file, 'utf8')).toBe('{ "keys": [');
  });
});

describe('withFileLock', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'stagecraft-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('breaks a lock left by a process of this host that is gone', async () => {
    const lock = join(dir, 'f.lock');
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => gone.once('exit', resolve));
    writeFileSync(lock, JSON.stringify({ pid: gone.pid, host: hostname(), token: 'x' }));
    await expect(withFileLock(lock, () => 'ran', { timeoutMs: 2_000 })).resolves.toBe('ran');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('breaks a lock whose pid now belongs to another process (a pid reused, a restarted container\'s pid 1)', async () => {
    const lock = join(dir, 'f.lock');
    // Left by a process that had this very pid before (as after a container restart), started at another time.
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), token: 'left', started: '1' }));
    await expect(withFileLock(lock, () => 'ran', { timeoutMs: 2_000 })).resolves.toBe('ran');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a folder (or anything but a file) in the lock\'s place at once, naming it: no writer made it, and waiting would never end', async () => {
    const lock = join(dir, 'f.lock');
    mkdirSync(lock);
    const started = Date.now();
    const refused = withFileLock(lock, () => 'ran', { timeoutMs: 5_000 });
    await expect(refused).rejects.not.toBeInstanceOf(FileLockTimeoutError);
    await expect(refused).rejects.toThrow(`${lock} is a folder, not a lock file: no writer made it; remove it`);
    await expect(refused).rejects.toMatchObject({ code: 'ELOCKNOTFILE' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(statSync(lock).isDirectory()).toBe(true);
  });

  it('waits for a live holder and gives up after its timeout', async () => {
    const lock = join(dir, 'f.lock');
    await withLiveProcess(async (pid) => {
      writeFileSync(lock, JSON.stringify({ pid, host: hostname(), token: 'held', started: startOf(pid) }));
      await expect(withFileLock(lock, () => 'ran', { timeoutMs: 200 })).rejects.toBeInstanceOf(FileLockTimeoutError);
    });
    expect(readFileSync(lock, 'utf8')).toContain('held');
  });

  // The blocking form (a process ending by a signal takes back its unseen first key with it) judges locks as the other does.
  it('withFileLockSync: breaks a lock whose holder is gone, waits for a live one and gives up after its timeout, and releases its own', async () => {
    const lock = join(dir, 'f.lock');
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => gone.once('exit', resolve));
    writeFileSync(lock, JSON.stringify({ pid: gone.pid, host: hostname(), token: 'x' }));
    expect(withFileLockSync(lock, () => readFileSync(lock, 'utf8'))).toContain(`"pid":${process.pid}`);
    expect(readdirSync(dir)).toEqual([]);
    await withLiveProcess(async (pid) => {
      writeFileSync(lock, JSON.stringify({ pid, host: hostname(), token: 'held', started: startOf(pid) }));
      const started = Date.now();
      expect(() => withFileLockSync(lock, () => 'ran', { timeoutMs: 200 })).toThrow(FileLockTimeoutError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    });
    expect(readFileSync(lock, 'utf8')).toContain('held');
  });

  describe('a lock written by an older version (no start time)', () => {
    it("breaks it at once when it names this process's pid: its holder is gone (a crash, then a restarted container's pid 1)", async () => {
      const lock = join(dir, 'f.lock');
      writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), token: 'left' }));
      await expect(withFileLock(lock, () => 'ran', { timeoutMs: 2_000 })).resolves.toBe('ran');
      expect(readdirSync(dir)).toEqual([]);
    });

    it('naming another live process, waits for it while fresh, and breaks it once older than staleMs', async () => {
      const lock = join(dir, 'f.lock');
      await withLiveProcess(async (pid) => {
        writeFileSync(lock, JSON.stringify({ pid, host: hostname(), token: 'old' }));
        await expect(withFileLock(lock, () => 'ran', { timeoutMs: 200, staleMs: 60_000 })).rejects.toBeInstanceOf(FileLockTimeoutError);
        expect(readFileSync(lock, 'utf8')).toContain('old');
        const anHourAgo = new Date(Date.now() - 3_600_000);
        utimesSync(lock, anHourAgo, anHourAgo);
        await expect(withFileLock(lock, () => 'ran', { timeoutMs: 2_000, staleMs: 60_000 })).resolves.toBe('ran');
      });
      expect(readdirSync(dir)).toEqual([]);
    });
  });

  // No writer writes anything but its JSON holder (in one write, right after creating the file):
  // a lock that does not read as one, and was not made this very moment, names no holder to wait
  // for. Judged by age alone it held every key change until the timeout, however long staleMs is.
  it.each([
    ['garbage', 'not a lock \u0000\u00ff'],
    ['a JSON value that is no holder', '[1,2,3]'],
    ['nothing', ''],
  ])('takes over a lock file holding %s, left a moment ago, at once', async (_label, content) => {
    const lock = join(dir, 'f.lock');
    writeFileSync(lock, content);
    const aMomentAgo = new Date(Date.now() - 5_000);
    utimesSync(lock, aMomentAgo, aMomentAgo);
    await expect(withFileLock(lock, () => 'ran', { timeoutMs: 1_000, staleMs: 60_000 })).resolves.toBe('ran');
    expect(readdirSync(dir)).toEqual([]);
  });
});

/** Runs `work` with the pid of a child process that stays alive until it is done. */
async function withLiveProcess(work: (pid: number) => Promise<void>): Promise<void> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await new Promise((resolve, reject) => child.once('spawn', resolve).once('error', reject));
    await work(child.pid!);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}

/** When a process started, as the lock records it (Linux: /proc/<pid>/stat, field 22). */
function startOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
