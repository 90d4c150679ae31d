import { isUtf8 } from 'node:buffer';
import { readFileSync } from 'node:fs';

/**
 * A configuration file's text, which must be UTF-8: read with 'utf8' alone, a Latin-1 "été"
 * would become "\uFFFD t\uFFFD" and be recorded so (a process version's name, say), silently.
 */
export function readUtf8(file: string): string {
  const bytes = readFileSync(file);
  if (!isUtf8(bytes)) throw new Error('it is not UTF-8 text; save it as UTF-8');
  return bytes.toString('utf8');
}
