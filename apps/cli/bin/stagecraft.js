#!/usr/bin/env node
// Launcher of the `stagecraft` CLI: compiles the TypeScript entry on the fly with swc (as
// `npm run start:dev` does), with the repository's tsconfig wherever it is run from.
const { join } = require('node:path');

process.env.SWC_NODE_PROJECT ??= join(__dirname, '..', '..', '..', 'tsconfig.json');
require('@swc-node/register');
require('../src/main.ts');
