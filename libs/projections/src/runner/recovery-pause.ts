// How a reader of the log waits before following it again after it could not be followed (the
// store or the read side away): 0.5 s, doubled on each failed attempt, up to 30 s. The in-memory
// runner and the PostgreSQL projector both wait so.

const RECOVERY_FIRST_PAUSE_MS = 500;
const RECOVERY_MAX_PAUSE_MS = 30_000;

/** Resolves after the pause due before attempt `attempt` (0, 1, …), or at once when `signal` aborts. */
export function recoveryPause(attempt: number, signal: AbortSignal): Promise<void> {
  const ms = Math.min(RECOVERY_MAX_PAUSE_MS, RECOVERY_FIRST_PAUSE_MS * 2 ** attempt);
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
