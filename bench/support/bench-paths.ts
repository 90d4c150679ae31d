import { existsSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';

// `npm run bench:projections` runs the bench compiled to JavaScript (tsconfig.bench.json, into
// dist/bench), as `npm start` runs the service: under swc-node's in-process transpiler a Node
// process carries ~125 MB more RSS before it has done anything (the native compiler, and every
// source compiled in memory), which the rebuild's and the projector's peak RSS then counted as
// theirs. The other benches still run their TypeScript through swc-node. These helpers let the same
// source run either way.

/** The repository's root: the nearest folder above `from` that holds package.json (dist/bench holds none). */
export function repoRootFrom(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}`);
  }
}

export const REPO_ROOT = repoRootFrom(__dirname);

/** `name` beside the calling module (`dir`), in the language this bench runs in (.js compiled, .ts under swc-node). */
export const besideThis = (dir: string, name: string): string => join(dir, `${name}${extname(__filename)}`);

/** Node's arguments to run a bench file: compiled JavaScript as it is, TypeScript through swc-node. */
export const nodeScript = (file: string): string[] => (file.endsWith('.ts') ? ['-r', '@swc-node/register', file] : [file]);
