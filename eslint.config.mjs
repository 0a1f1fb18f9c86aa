// Lint rules that protect the architecture: workflows stay deterministic (no Node built-ins, SDK
// clients or activity implementations), promises are never left floating.
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);

export default tseslint.config(
  { ignores: ['node_modules/', '.venv/', '.venv-jobs/', 'dist/', '.tmp/', '.llmtwin/', 'jobs/', 'coverage/', 'bench/out/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, '@temporalio/activity', '@temporalio/client', '@temporalio/worker', 'pino'].map((name) => ({
            name,
            message: 'workflows must stay deterministic: do I/O in an activity',
          })),
          patterns: [
            { group: ['@aws-sdk/*'], message: 'workflows never talk to AWS: call an activity' },
            {
              group: ['**/activities/*', '**/platform/*', '**/workers/*'],
              allowTypeImports: true,
              message: 'import activities with `import type` and call them through proxyActivities',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['common/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'common/ is pure and shared with workflows: no I/O here' })),
          patterns: [
            {
              group: [
                '**/activities',
                '**/activities/*',
                '**/workflows',
                '**/workflows/*',
                '**/platform/*',
                '**/workers/*',
                '**/scripts/*',
                '**/test/*',
                '**/bench/*',
              ],
              message: 'common/ imports nothing of ours outside common/',
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI, demos and schedules start workflows by type name with the contract's types (common/<stage>/);
    // workflow code is for workers only. Activities never import workflows either.
    files: ['scripts/**/*.ts', 'activities/**/*.ts', 'platform/**/*.ts', 'client/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/workflows', '**/workflows/*'],
              message: 'start workflows by type name (common/<stage>/contract.ts); never import workflow code here',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    // Fake activities must be async to match the real ones' signatures even when they await nothing.
    rules: { '@typescript-eslint/require-await': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' },
    },
    rules: { ...tseslint.configs.disableTypeChecked.rules, '@typescript-eslint/no-require-imports': 'off' },
  },
);
