#!/usr/bin/env node
// `npm start` builds only when the sources changed since the last build: a restart of an unchanged
// install takes seconds, not a full TypeScript build and board bundle. The digest covers every
// file the build reads (apps/, libs/, the tsconfig files, package-lock.json); it is written after a
// successful build only, so a failed build is retried next time.
const { createHash } = require('node:crypto');
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const root = join(__dirname, '..');
const stamp = join(root, 'dist', '.source-digest');
const outputs = [join(root, 'dist', 'apps', 'api', 'src', 'main.js'), join(root, 'dist', 'board', 'board.js')];

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesUnder(path);
    return [path];
  });
}

function sourceDigest() {
  const files = [
    ...filesUnder(join(root, 'apps')),
    ...filesUnder(join(root, 'libs')),
    ...['tsconfig.json', 'tsconfig.build.json', 'package-lock.json'].map((name) => join(root, name)),
  ]
    .filter((path) => existsSync(path) && statSync(path).isFile())
    .sort();
  const hash = createHash('sha256');
  for (const path of files) hash.update(relative(root, path)).update('\0').update(readFileSync(path)).update('\0');
  return hash.digest('hex');
}

const digest = sourceDigest();
const upToDate = existsSync(stamp) && readFileSync(stamp, 'utf8') === digest && outputs.every((path) => existsSync(path));
if (upToDate && !process.argv.includes('--force')) {
  console.log('Build up to date (sources unchanged since the last build); starting.');
} else {
  execFileSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  writeFileSync(stamp, digest);
}
