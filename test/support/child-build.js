// One JavaScript build of apps/ and libs/ for the processes the end-to-end specs start (the API,
// the CLI, the projector, the relay, the KurrentDB test double). Compiling TypeScript on the fly in each of them with
// `@swc-node/register` costs most of a child's start (about 0.5 s only to load `typescript` for
// its tsconfig reader, then every module compiled again), and the suite starts well over a hundred
// of them. This build is made once per source state (Jest's global set-up), with swc and the same
// decorator settings as Jest's own transform; it is kept under .tmp/ by a digest of the sources, so
// an unchanged checkout reuses it and a changed one never runs stale code.
const { createHash } = require('node:crypto');
const { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { dirname, join, relative, sep } = require('node:path');

const ROOT = join(__dirname, '..', '..');
// The KurrentDB test double runs as a child process too: one per store the KurrentDB e2e specs open.
const SOURCE_DIRS = ['apps', 'libs', join('test', 'kurrentdb-double')];
// The board is a browser bundle (apps/board, built by `npm run build:board`), not a child process.
const EXCLUDED = [join('apps', 'board') + sep];
const TEST_FILE = /\.(spec|int-spec|e2e-spec|contract)\.ts$/;

function sourcesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourcesUnder(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !TEST_FILE.test(entry.name) ? [path] : [];
  });
}

function sourceFiles() {
  return SOURCE_DIRS.flatMap((dir) => sourcesUnder(join(ROOT, dir)))
    .filter((path) => !EXCLUDED.some((prefix) => relative(ROOT, path).startsWith(prefix)))
    .sort();
}

/** `@stagecraft/…` → the built file it names (tsconfig.json's paths, `.ts` → `.js`). */
function aliasTargets(outDir) {
  const { compilerOptions } = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'));
  return new Map(Object.entries(compilerOptions.paths).map(([alias, [target]]) => [alias, join(outDir, target.replace(/\.ts$/, '.js'))]));
}

function relativeRequire(fromFile, target) {
  const path = relative(dirname(fromFile), target).split(sep).join('/');
  return path.startsWith('.') ? path : `./${path}`;
}

async function compileInto(outDir, files) {
  const swc = require('@swc/core');
  const aliases = aliasTargets(outDir);
  const options = {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  };
  await Promise.all(
    files.map(async (file) => {
      const outFile = join(outDir, relative(ROOT, file)).replace(/\.ts$/, '.js');
      const { code } = await swc.transformFile(file, { ...options, filename: file, swcrc: false, configFile: false });
      const linked = code.replace(/require\("(@stagecraft\/[^"]+)"\)/g, (whole, alias) => {
        const target = aliases.get(alias);
        if (target === undefined) throw new Error(`${relative(ROOT, file)} requires ${alias}, which tsconfig.json's paths do not name`);
        return `require(${JSON.stringify(relativeRequire(outFile, target))})`;
      });
      mkdirSync(dirname(outFile), { recursive: true });
      writeFileSync(outFile, linked);
    }),
  );
}

/** Builds (or finds) the build of the current sources; returns its folder. */
async function buildForChildProcesses() {
  const files = sourceFiles();
  const hash = createHash('sha256');
  for (const file of [join(ROOT, 'tsconfig.json'), join(ROOT, 'package.json'), join(ROOT, 'package-lock.json'), __filename]) hash.update(readFileSync(file));
  for (const file of files) hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  const base = join(ROOT, '.tmp', 'child-build');
  const outDir = join(base, hash.digest('hex').slice(0, 16));
  if (existsSync(join(outDir, '.complete'))) return outDir;

  // Built aside and renamed into place, so a second Jest run at the same time never sees half a build.
  const partial = `${outDir}.partial-${process.pid}`;
  rmSync(partial, { recursive: true, force: true });
  await compileInto(partial, files);
  // The CLI reads its version from the package.json above its folder, as in a checkout or dist/.
  copyFileSync(join(ROOT, 'package.json'), join(partial, 'package.json'));
  writeFileSync(join(partial, '.complete'), new Date().toISOString());
  try {
    renameSync(partial, outDir);
  } catch (error) {
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(join(outDir, '.complete'))) throw error;
  }
  pruneOldBuilds(base, outDir);
  return outDir;
}

/** Keeps the last few builds (another checkout state may be tested again soon) and no more. */
function pruneOldBuilds(base, keep) {
  const builds = readdirSync(base)
    .map((name) => join(base, name))
    .filter((path) => path !== keep && !path.includes('.partial-'))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  for (const old of builds.slice(3)) rmSync(old, { recursive: true, force: true });
}

module.exports = { buildForChildProcesses, ROOT };
