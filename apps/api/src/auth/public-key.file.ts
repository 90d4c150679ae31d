import { createPublicKey, type KeyObject } from 'node:crypto';
import { algorithmOfPem, readUtf8 } from '@stagecraft/config';

// As often as the keys file is looked at (api-key.store.ts): a key rotated away after a leak stops
// verifying tokens within about a second on every instance, not at the next restart.
const CHECK_INTERVAL_MS = 500;

export interface VerificationKey {
  readonly key: KeyObject;
  readonly algorithms: readonly string[];
}

/**
 * JWT_PUBLIC_KEY given as a file, read again at most every half second while tokens come. A file
 * that is gone, half-written or holds no usable public key keeps the last good key and logs a
 * warning once, as a botched keys file does: an edit must neither lock everyone out nor crash.
 */
export class PublicKeyFile {
  private text: string;
  private current: VerificationKey;
  private checkedAt: number;
  private reported?: string;

  constructor(
    private readonly file: string,
    pem: string,
    algorithms: readonly string[],
    private readonly now: () => number,
    private readonly warn: (message: string) => void,
  ) {
    this.text = pem;
    this.current = { key: createPublicKey(pem), algorithms };
    this.checkedAt = now();
  }

  key(): VerificationKey {
    if (this.now() - this.checkedAt >= CHECK_INTERVAL_MS) this.check();
    return this.current;
  }

  private check(): void {
    this.checkedAt = this.now();
    let text: string;
    try {
      // A regular file of a key's size only, as the keys file (api-key.store.ts): read at a token, a
      // FIFO put in its place would stop the event loop for good, a device never ends.
      text = readUtf8(this.file);
    } catch (error) {
      return this.report(`cannot be read (${(error as Error).message})`);
    }
    // The good key back as it was: a later mishap, even the same one again, is said again.
    if (text === this.text) {
      this.reported = undefined;
      return;
    }
    try {
      const algorithm = algorithmOfPem(text);
      this.current = { key: createPublicKey(text), algorithms: [algorithm] };
    } catch (error) {
      return this.report((error as Error).message.replace(/^Invalid setting \S+: /, ''));
    }
    this.text = text;
    this.reported = undefined;
    this.warn(`The JWT public key was read again from ${this.file} (${this.current.algorithms.join(', ')}): tokens signed with the previous key are refused from now on.`);
  }

  // Once per distinct problem, not at every look.
  private report(problem: string): void {
    if (this.reported === problem) return;
    this.reported = problem;
    this.warn(`The JWT public key file ${this.file} ${problem}; keeping the key last read from it.`);
  }
}
