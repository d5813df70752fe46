// Lint configuration (`npm run lint`, run by `npm test` and CI): ESLint's and
// typescript-eslint's recommended rules, plus metaq's own "one door" rule that
// keeps every folder's internals behind its index.ts (docs/ARCHITECTURE.md).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import oneDoor from './scripts/lint/one-door.js';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'results/', 'coverage/', '.metaq-tmp/', '.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    plugins: { metaq: { rules: { 'one-door': oneDoor } } },
    rules: {
      'metaq/one-door': ['error', { root: 'src' }],
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // The wire and the clients never depend on the store (docs/ARCHITECTURE.md):
    // what they share with it, the record layout, lives in src/message/.
    files: ['src/protocol/**', 'src/client/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/store', '**/store/**'], message: 'protocol/ and client/ must not import the store.' }] }],
    },
  },
);
