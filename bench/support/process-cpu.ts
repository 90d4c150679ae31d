// CPU time of another process, read from /proc (Linux): the whole process (every thread, the
// worker threads included) and its main thread alone, the one running the event loop.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

export interface CpuSample {
  /** Seconds of user + system time of all threads of the process. */
  readonly process: number;
  /** The same for the main thread (the event loop). */
  readonly mainThread: number;
}

const ticksPerSecond = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a /proc stat line, in seconds. The command name may hold spaces: fields count from its closing parenthesis. */
function cpuSecondsOf(statFile: string): number {
  const text = readFileSync(statFile, 'utf8');
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the name: state is field 3 of stat(5), so utime (14) and stime (15) sit at 11 and 12 here.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

/** undefined where /proc is not there (not Linux): the figures are then left out, not guessed. */
export function sampleCpu(pid: number): CpuSample | undefined {
  try {
    return { process: cpuSecondsOf(`/proc/${pid}/stat`), mainThread: cpuSecondsOf(`/proc/${pid}/task/${pid}/stat`) };
  } catch {
    return undefined;
  }
}

/** Resolution of the samples: per-request figures over a window shorter than a few seconds are noise. */
export const CPU_TICK_SECONDS = 1 / ticksPerSecond;
