// @ts-check
import { dirname, relative, resolve, sep } from 'node:path';
import tseslint from 'typescript-eslint';

const ROOT = import.meta.dirname;

// The domain libraries decide; they never reach out. No framework, no storage, no file system,
// no network, no environment, no clock and no randomness: time, ids and the actor arrive with
// the command. Tests and test fixtures next to them may read files.
const DOMAIN_LIBS = ['libs/sales-process/src/**/*.ts', 'libs/opportunity/src/**/*.ts', 'libs/audit/src/**/*.ts', 'libs/public-events/src/**/*.ts', 'libs/http/src/**/*.ts'];
const TEST_FILES = ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts', '**/testing/**'];

export const domainPurityRules = {
  'no-restricted-imports': [
    'error',
    {
      patterns: [
        { group: ['@nestjs/*'], message: 'Domain libraries do not depend on NestJS; wire them in apps/.' },
        {
          group: ['fs', 'fs/*', 'node:fs', 'node:fs/*', 'better-sqlite3', '@kurrent/*', 'pg', 'node:http', 'http', 'node:net', 'net', 'node:child_process', 'child_process'],
          message: 'Domain libraries do no I/O; adapters live in libs/event-store, libs/config or apps/.',
        },
      ],
    },
  ],
  'no-restricted-syntax': [
    'error',
    { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'The domain never reads the clock: take the time from the command.' },
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'The domain never reads the clock: take the time from the command.' },
    { selector: "CallExpression[callee.object.name='Math'][callee.property.name='random']", message: 'The domain makes no randomness: ids arrive with the command.' },
    { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'The domain reads no environment: configuration is passed in.' },
  ],
};

// Layering: apps are thin adapters over libs, so no app reaches into another app, and no lib
// reaches into an app (HTTP types such as ApiProblem live in apps/api and stay there). Relative
// imports are resolved against the importing file; `@stagecraft/*` aliases always name a lib.
const layering = {
  rules: {
    'no-cross-layer-imports': {
      meta: {
        type: 'problem',
        messages: {
          appToApp: 'apps/{{from}} imports apps/{{to}}: an app is a thin adapter over libs/; move what both need into a lib.',
          libToApp: 'A library imports apps/{{to}}: libs never depend on an app; move the piece into libs/ or pass it in.',
        },
        schema: [],
      },
      create(context) {
        const [layer, owner] = relative(ROOT, context.filename).split(sep);
        const check = (node, source) => {
          if (typeof source !== 'string' || !source.startsWith('.')) return;
          const [targetLayer, target] = relative(ROOT, resolve(dirname(context.filename), source)).split(sep);
          if (targetLayer !== 'apps') return;
          if (layer === 'apps' && target !== owner) context.report({ node, messageId: 'appToApp', data: { from: owner, to: target } });
          if (layer === 'libs') context.report({ node, messageId: 'libToApp', data: { to: target } });
        };
        return {
          ImportDeclaration: (node) => check(node, node.source.value),
          ExportNamedDeclaration: (node) => node.source && check(node, node.source.value),
          ExportAllDeclaration: (node) => check(node, node.source.value),
          ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value),
        };
      },
    },
  },
};

// Every library but the domain ones (which refuse far more, above) stays free of the HTTP framework:
// Nest lives in apps/ and in thin *.module.ts files.
const FRAMEWORK_FREE_LIBS = ['libs/**/*.ts'];
const frameworkFreeRules = {
  'no-restricted-imports': [
    'error',
    { patterns: [{ group: ['@nestjs/*', 'fastify', '@fastify/*'], message: 'Libraries do not depend on NestJS or Fastify; wire them in apps/ (or a thin *.module.ts).' }] },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'data/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      'no-console': 'off',
    },
  },
  { files: ['apps/**/*.ts', 'libs/**/*.ts'], plugins: { layering }, rules: { 'layering/no-cross-layer-imports': 'error' } },
  { files: FRAMEWORK_FREE_LIBS, ignores: [...TEST_FILES, '**/*.module.ts'], rules: frameworkFreeRules },
  { files: DOMAIN_LIBS, ignores: TEST_FILES, rules: domainPurityRules },
  // A test that cannot run in some setup is skipped where Jest sees it, saying why (itIf /
  // describeIf in test/support/skips.ts): an early `if (…) return;` in its body passes silently.
  {
    files: TEST_FILES,
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name=/^(it|test)$/] > :function > BlockStatement > IfStatement[consequent.type='ReturnStatement']",
          message: 'A test that cannot run here is skipped, not passed: use itIf(condition, why) from @stagecraft/testing/skips.',
        },
      ],
    },
  },
  // Properties run through one helper that fixes the seed, honours FC_SEED / FC_PATH and prints the
  // command that replays a failure (test/support/fast-check.ts).
  {
    files: ['**/*.ts'],
    ignores: ['test/support/fast-check.ts'],
    rules: {
      'no-restricted-properties': [
        'error',
        ...['assert', 'check'].map((property) => ({ object: 'fc', property, message: 'Use assertProperty from @stagecraft/testing/fast-check: a fixed seed, FC_SEED/FC_PATH replay and the replay command on failure.' })),
      ],
    },
  },
);
