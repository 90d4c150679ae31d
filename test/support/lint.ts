import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');

/** Lints a snippet as if it were a file at `path`, with the project's own ESLint config. */
export function lint(path: string, code: string): { exitCode: number; output: string } {
  const result = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--stdin', '--stdin-filename', path], {
    cwd: ROOT,
    input: code,
    encoding: 'utf8',
  });
  return { exitCode: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}
