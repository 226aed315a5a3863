// ESLint flat config: typescript-eslint's recommended rules plus no-explicit-any and ban-ts-comment.
// Syntax-only on purpose: type-aware rules re-run the type checker, which `npm test` already runs
// (test/lint/typecheck.test.ts). test/lint/eslint.test.ts runs this inside the counted test run.
// A disable comment must say why after `--` (reportUnusedDisableDirectives keeps them honest).
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // build outputs and installed code; everything else that git tracks is linted
  // What git ignores is not the project's code (a developer's scratch files, caches, build output).
  { ignores: ['dist/**', '**/dist/**', 'node_modules/**', 'coverage/**', 'scratch/**', '.cache/**', 'test-results/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-expect-error': 'allow-with-description', 'ts-ignore': true, 'ts-nocheck': true, 'ts-check': false, minimumDescriptionLength: 10 }],
      // a leading underscore marks a binding kept on purpose (a rest-destructuring's dropped key, an interface's unused parameter)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  // plain JavaScript: Node scripts and one browser page (TypeScript files get their globals from tsconfig's lib/types)
  { files: ['scripts/**/*.{js,mjs,cjs}'], languageOptions: { globals: globals.node } },
  { files: ['test/browser/pages/**/*.js'], languageOptions: { globals: globals.browser } },
);
