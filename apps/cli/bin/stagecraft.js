#!/usr/bin/env node
// Launcher of the `stagecraft` CLI. From a checkout with dev dependencies (`npm ci`), it compiles
// the TypeScript entry on the fly with swc, as `npm run start:dev` does, using the repository's
// tsconfig wherever it is run from. Where swc is not installed (`npm ci --omit=dev`), it runs
// the build (`npm run build` → dist/).
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..', '..');
let swc;
try {
  swc = require.resolve('@swc-node/register');
} catch {
  swc = undefined;
}
if (swc) {
  process.env.SWC_NODE_PROJECT ??= join(root, 'tsconfig.json');
  require(swc);
  require('../src/main.ts');
} else {
  const built = join(root, 'dist', 'apps', 'cli', 'src', 'main.js');
  if (!existsSync(built)) {
    console.error('stagecraft: neither @swc-node/register (npm ci) nor a build (npm run build) is there to run the CLI.');
    process.exit(2);
  }
  require(built);
}
