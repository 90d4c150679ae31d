import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, lstatSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { quotedValue } from '@stagecraft/sales-process';

/**
 * The lock could not be taken in time: another writer holds it (or a crashed one of another host
 * left it). Says who holds it, as the lock names them, and what to do: wait for that writer, since
 * a lock left by a writer that is gone is taken over without anyone's help.
 */
export class FileLockTimeoutError extends Error {
  constructor(
    readonly lockFile: string,
    /** The age past which this writer takes a lock of another host to be left by a crash. */
    staleMs: number = DEFAULT_STALE_MS,
  ) {
    super(`${lockFile} is held by ${holderOf(lockFile)}; try again once it is done (a lock left by a writer that stopped is taken over by itself: on this host once its process has ended, after ${staleMs / 1000} s from another host)`);
    this.name = 'FileLockTimeoutError';
  }
}

/** How long a lock of another host stands before it is taken to be left by a crash. */
const DEFAULT_STALE_MS = 30_000;

/** The holder a lock names, for a person: "process 123 on host-a", or "another writer" when it names none that reads. */
function holderOf(lockFile: string): string {
  try {
    const holder = JSON.parse(readFileSync(lockFile, 'utf8')) as { pid?: unknown; host?: unknown };
    // The host is whatever the lock says (anyone who may write the folder writes it): quoted, so that it cannot end the line or pass for more of the message.
    if (typeof holder.pid === 'number' && typeof holder.host === 'string') return `process ${holder.pid} on ${quotedValue(holder.host)}`;
  } catch {
    // Gone, being written, or garbage: nothing to name.
  }
  return 'another writer';
}

export interface FileLockOptions {
  readonly timeoutMs?: number;
  /** A lock of another host (or of an older version, without start time) older than this is taken to be left by a crash. */
  readonly staleMs?: number;
}

/**
 * Runs `work` while holding `lockFile`, created exclusively (O_EXCL), so read-modify-write cycles
 * of several processes on one file never interleave. A lock left by a process that died on this
 * host is broken at once, and so is one that names no holder (garbage) once past the moment of its
 * writing; one from another host (a shared folder), or one of this host without its holder's start
 * time (an older version's) whose pid is alive, after `staleMs`.
 */
export async function withFileLock<T>(lockFile: string, work: () => T | Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const owner = ownerOf();
  for (;;) {
    const attempt = tryTake(lockFile, owner, options.staleMs ?? DEFAULT_STALE_MS);
    if (attempt === 'taken') break;
    if (attempt === 'busy') {
      if (Date.now() > deadline) throw new FileLockTimeoutError(lockFile, options.staleMs ?? DEFAULT_STALE_MS);
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 30));
    }
  }
  try {
    return await work();
  } finally {
    release(lockFile, owner);
  }
}

/**
 * withFileLock for work that cannot wait for the event loop: the last moments of a process ending
 * by a signal, where nothing scheduled would run. It waits by blocking, so only a short timeout
 * (2 s by default) suits it.
 */
export function withFileLockSync<T>(lockFile: string, work: () => T, options: FileLockOptions = {}): T {
  const deadline = Date.now() + (options.timeoutMs ?? 2_000);
  const owner = ownerOf();
  for (;;) {
    const attempt = tryTake(lockFile, owner, options.staleMs ?? DEFAULT_STALE_MS);
    if (attempt === 'taken') break;
    if (attempt === 'busy') {
      if (Date.now() > deadline) throw new FileLockTimeoutError(lockFile, options.staleMs ?? DEFAULT_STALE_MS);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.random() * 30);
    }
  }
  try {
    return work();
  } finally {
    release(lockFile, owner);
  }
}

/** Who holds a lock: written into it, so that another writer can judge whether its holder is gone. */
function ownerOf(): string {
  const started = startOf(process.pid);
  return JSON.stringify({ pid: process.pid, host: hostname(), token: randomBytes(8).toString('hex'), ...(started !== undefined ? { started } : {}) });
}

/** One try: the lock taken, a stale one broken (try again at once), or busy (wait, then try again). */
function tryTake(lockFile: string, owner: string, staleMs: number): 'taken' | 'broken' | 'busy' {
  if (tryCreate(lockFile, owner)) return 'taken';
  assertLockIsFile(lockFile);
  if (!isStale(lockFile, staleMs)) return 'busy';
  breakStale(lockFile);
  return 'broken';
}

// Only our own lock is removed, even if someone judged it stale and took it meanwhile.
function release(lockFile: string, owner: string): void {
  if (readOrUndefined(lockFile) === owner) unlinkSync(lockFile);
}

function tryCreate(lockFile: string, owner: string): boolean {
  let descriptor: number;
  try {
    descriptor = openSync(lockFile, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(descriptor, owner);
  } finally {
    closeSync(descriptor);
  }
  return true;
}

/**
 * A folder (or a FIFO, a device…) where the lock should be was made by no writer: it can neither
 * be read as a holder nor judged stale, so waiting for it would end in "held by another writer"
 * every time, sending the operator after a writer that does not exist. Refused at once, naming it.
 */
function assertLockIsFile(lockFile: string): void {
  let stats;
  try {
    stats = lstatSync(lockFile);
  } catch {
    return; // released meanwhile
  }
  if (stats.isFile()) return;
  const kind = stats.isDirectory() ? 'a folder' : stats.isSymbolicLink() ? 'a symbolic link' : stats.isFIFO() ? 'a FIFO' : stats.isSocket() ? 'a socket' : 'a device';
  throw Object.assign(new Error(`${lockFile} is ${kind}, not a lock file: no writer made it; remove it`), { code: 'ELOCKNOTFILE' });
}

function isStale(lockFile: string, staleMs: number): boolean {
  const content = readOrUndefined(lockFile);
  if (content === undefined) return false; // released meanwhile: just try again
  let holder: { pid?: unknown; host?: unknown; started?: unknown } | undefined;
  try {
    const parsed = JSON.parse(content) as unknown;
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { pid?: unknown }).pid === 'number' && typeof (parsed as { host?: unknown }).host === 'string') holder = parsed as typeof holder;
  } catch {
    // Not JSON: being written this very moment, or garbage.
  }
  // Every writer writes its holder in one write right after creating the file, so one that reads
  // as no holder is either that moment (empty, or half written) or garbage (a crash mid-write, a
  // hand edit, a disk fault). Past that moment nobody holds it: taken over at once, rather than
  // judged by age and holding every key change until the writers time out.
  if (holder === undefined) return ageOf(lockFile) > UNREADABLE_GRACE_MS;
  if (holder.host === hostname() && typeof holder.pid === 'number') {
    if (!isAlive(holder.pid)) return true;
    // A live process with that pid is not the holder when it started at another time: pids are
    // reused, and a restarted container gives its one process the same pid (often 1) and host name.
    if (typeof holder.started === 'string') return startOf(holder.pid) !== undefined && startOf(holder.pid) !== holder.started;
    // No start time: written by an older version (or where start times cannot be read). With this
    // process's pid, where this process's own locks carry one, its holder is gone (an older
    // version's crash, then a container restart giving this process its pid): taken as never
    // released, it blocked every key change for as long as this process ran. With another live
    // pid the holder may be that process or a crashed one whose pid was reused: judged by age,
    // as a lock of another host is, so it blocks neither for ever nor is taken from a live writer.
    if (holder.pid === process.pid && startOf(process.pid) !== undefined) return true;
  }
  return ageOf(lockFile) > staleMs;
}

/** How long a lock that reads as no holder may be the moment its writer is writing it. */
const UNREADABLE_GRACE_MS = 1_000;

/** Milliseconds since the lock file was last written; 0 when it is gone (released meanwhile: just try again). */
function ageOf(lockFile: string): number {
  try {
    return Date.now() - statSync(lockFile).mtimeMs;
  } catch {
    return 0;
  }
}

/** When a process started (Linux: /proc/<pid>/stat, field 22, in clock ticks since boot); undefined elsewhere. */
function startOf(pid: number): string | undefined {
  const stat = readOrUndefined(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Moves the stale lock aside, then checks that what was moved is what was judged stale: if a
// fresh lock was moved instead (someone broke and retook it between our look and our move), it
// is put back.
function breakStale(lockFile: string): void {
  const judged = readOrUndefined(lockFile);
  const aside = `${lockFile}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    renameSync(lockFile, aside);
  } catch {
    return;
  }
  try {
    if (readOrUndefined(aside) !== judged) linkSync(aside, lockFile);
  } catch {
    // Another lock exists by now: it stays, ours goes.
  } finally {
    unlinkSync(aside);
  }
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
