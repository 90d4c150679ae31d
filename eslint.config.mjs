// @ts-check
import tseslint from 'typescript-eslint';

// The domain libraries decide; they never reach out. No framework, no storage, no file system,
// no network, no environment, no clock and no randomness: time, ids and the actor arrive with
// the command. Tests and test fixtures next to them may read files.
const DOMAIN_LIBS = ['libs/sales-process/src/**/*.ts', 'libs/opportunity/src/**/*.ts', 'libs/audit/src/**/*.ts'];
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
  { files: DOMAIN_LIBS, ignores: TEST_FILES, rules: domainPurityRules },
);
