import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The README's verify(secret, header, rawBody, nowSeconds?), as a subscriber pastes it. */
export type ReadmeVerify = (secret: string, header: string | undefined, rawBody: Buffer, nowSeconds?: number) => boolean;

/**
 * The verify() of the README's "Verifying a webhook", run as written: a copy kept in a test would
 * pass while the README's own drifted (it once accepted a header without `t=`).
 */
export function readmeVerify(): ReadmeVerify {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('**Verifying a webhook.**'));
  const code = /```js\n([^]*?)```/.exec(section)?.[1];
  if (code === undefined || !code.includes('function verify(')) throw new Error('README.md: no ```js block with function verify( under "Verifying a webhook"');
  return new Function('require', `${code}\nreturn verify;`)(require) as ReadmeVerify;
}
