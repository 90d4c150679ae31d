// Jest runs TypeScript through swc. NestJS 12 and jose 6 ship ESM only, and Jest on Node 20 cannot
// require ESM, so swc also compiles those node_modules to CommonJS (see TOOLCHAIN.md).
const { readFileSync } = require('node:fs');
const { cpus, loadavg } = require('node:os');
const { compilerOptions } = require('./tsconfig.json');

/** Cores left idle over a short look (Linux: /proc/stat); elsewhere, cores minus the 1-minute load. */
function idleCores(cores) {
  const sample = () => {
    const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    return { idle: ticks[3] + (ticks[4] || 0), total: ticks.reduce((sum, tick) => sum + tick, 0) };
  };
  try {
    const before = sample();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 400);
    const after = sample();
    return after.total > before.total ? (cores * (after.idle - before.idle)) / (after.total - before.total) : cores;
  } catch {
    return cores - loadavg()[0];
  }
}

function workersFor(cores, idle) {
  // Jest starts once the typecheck and lint before it are done, so on a quiet machine the cores
  // are idle now; when other work keeps more than half of them busy, a worker fewer.
  return idle > cores / 2 ? cores : Math.max(1, cores - 1);
}

const aliases = Object.fromEntries(
  Object.entries(compilerOptions.paths).map(([alias, [target]]) => [
    `^${alias.replace('/', '\\/')}$`,
    `<rootDir>/${target.replace(/^\.\//, '')}`,
  ]),
);

const swcTs = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
    },
    module: { type: 'commonjs' },
  },
];

const base = {
  rootDir: __dirname,
  testEnvironment: 'node',
  testRegex: '.*\\.(spec|int-spec|e2e-spec)\\.ts$',
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  // The child processes' build (test/support/child-build.js) holds a copy of package.json and compiled apps.
  modulePathIgnorePatterns: ['<rootDir>/.tmp/'],
  moduleNameMapper: aliases,
  transform: {
    '^.+\\.ts$': swcTs,
    '^.+\\.m?js$': ['@swc/jest', { module: { type: 'commonjs' } }],
  },
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|cookie|set-cookie-parser|file-type|strtok3|token-types|@tokenizer|uint8array-extras|@borewit|content-disposition|jose)/)',
  ],
};

// The KurrentDB adapter's contract runs once per server version the gRPC test double plays
// (KURRENTDB_DOUBLE_MODE, test/kurrentdb-double/SERVER-BEHAVIOUR.md).
const KURRENTDB_CONTRACT = 'libs/event-store/src/kurrentdb/kurrentdb-event-store\\.int-spec\\.ts$';
const KURRENTDB_MODES = ['22.10', '23.10', '24.10', '25.1'];

// End-to-end specs whose subject never reaches the event store: authentication and its limits,
// request validation, the board's browser session and its static files, time-zone parsing of query instants, and the
// SQLite-only cases (a full disk; the operator's problems, provoked on a keys file's lock and on a log written outside Stagecraft). They run once, on SQLite; running them again on the KurrentDB adapter
// would only exercise the same code twice. Every spec that writes,
// reads, verifies, exports or projects events runs on both stores.
const STORE_INDEPENDENT_E2E = ['auth', 'operator-problems', 'auth-limits', 'api-key-revocation', 'jwt', 'bad-input', 'board', 'board-files', 'board-sign-in', 'time-zones', 'disk-full', 'retry-after'];

// Every other test runs once on the default (SQLite) setup; the end-to-end specs run a second time
// with the KurrentDB adapter on the gRPC test double in its default mode (test/support/e2e-store.ts),
// and the analytics specs a third time with the read models in PostgreSQL (test/support/e2e-read-models.ts).
module.exports = {
  // Sized for a busy 2-core machine (CI shares it with other work): a test or hook that needs
  // longer says so itself. Tests assert behaviour, never time, so a slow machine only waits.
  // (A global option: Jest ignores it inside a project.)
  testTimeout: 60_000,
  // Most of an end-to-end spec's time is spent waiting on the processes it starts (the API, the
  // CLI, the KurrentDB double, PostgreSQL), so one worker per core keeps the cores busy on a quiet
  // machine (Jest's default leaves one idle). On a machine that is already busy, a worker fewer:
  // more parallel work there only stretches every test towards its timeout.
  maxWorkers: workersFor(cpus().length, idleCores(cpus().length)),
  // The API, CLI, projector, relay and KurrentDB double that end-to-end specs start as child processes
  // run from one swc build of the sources made here, not each compiling TypeScript as it starts.
  globalSetup: '<rootDir>/test/support/child-build.global-setup.js',
  projects: [
    { ...base, displayName: 'sqlite', testPathIgnorePatterns: [...base.testPathIgnorePatterns, KURRENTDB_CONTRACT] },
    ...KURRENTDB_MODES.map((mode) => ({
      ...base,
      displayName: `kurrentdb-${mode}`,
      testRegex: KURRENTDB_CONTRACT,
      globals: { KURRENTDB_DOUBLE_MODE: mode },
      setupFiles: ['<rootDir>/test/support/kurrentdb-mode.setup.ts'],
    })),
    {
      ...base,
      displayName: 'e2e on kurrentdb',
      testRegex: 'test/[^/]*\\.e2e-spec\\.ts$',
      testPathIgnorePatterns: [...base.testPathIgnorePatterns, ...STORE_INDEPENDENT_E2E.map((name) => `test/${name}\\.e2e-spec\\.ts$`)],
      setupFiles: ['<rootDir>/test/support/kurrentdb-e2e.setup.ts'],
    },
    // The analytics (and the projector feeding API instances) again with the read models in
    // PostgreSQL (READ_MODELS_URL): the same assertions, the same answers (test/support/e2e-read-models.ts).
    {
      ...base,
      displayName: 'e2e on postgres read models',
      testRegex: 'test/(analytics|analytics-time-bounds|analytics-versions|analytics-hand-overs|analytics-oracle-more|opportunity-search|projector|forecast|waterfall|waterfall-oracle|win-probability-migrated)\\.e2e-spec\\.ts$',
      setupFiles: ['<rootDir>/test/support/postgres-read-models-e2e.setup.ts'],
    },
  ],
};
