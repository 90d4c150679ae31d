import { join } from 'node:path';

// Not imported from api-test-app: e2e-store, which that module imports, uses this one too.
const ROOT = join(__dirname, '..', '..');

/**
 * The `node` arguments that run one of the apps' entry points (`apps/api/src/main`, …) as a child
 * process: from the JavaScript build Jest's global set-up made of the current sources
 * (test/support/child-build.js), or, where a spec runs without that set-up, from the TypeScript
 * source through `@swc-node/register`, as `npm run start:dev` does.
 */
export function childNodeArgs(entry: string): string[] {
  const build = process.env.STAGECRAFT_TEST_CHILD_BUILD;
  return build ? [join(build, `${entry}.js`)] : ['-r', '@swc-node/register', join(ROOT, `${entry}.ts`)];
}
