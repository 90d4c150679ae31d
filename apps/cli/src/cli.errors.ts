/**
 * Exit codes of the `stagecraft` CLI, so scripts can tell "the check found a problem" from
 * "the command was used wrongly".
 */
export const EXIT = {
  ok: 0,
  /** A verification failed, a file is invalid, or some import rows were rejected. */
  failed: 1,
  /** Wrong arguments or options, an unreadable input file, a bad setting (commander's usage errors too). */
  usage: 2,
  /**
   * The event store cannot be reached, read or written (a server away, a damaged file, a full disk): nothing was checked,
   * which a script must tell apart from a check that failed (1: a broken chain is tampering). Also
   * `verify` that found nothing broken but could not make one of its checks (UNCHECKED: a user refused the streams' metadata).
   */
  unavailable: 3,
} as const;

/**
 * An error the CLI reports as a plain message (no stack trace) with its exit code, and `lines`
 * after it, each on a line of its own (what verify prints: ALTERED, UNCHECKED): the message is one
 * line, its controls escaped, so a line break in it could not pass for a line of the report.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.usage,
    readonly lines: readonly string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}
