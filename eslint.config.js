import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'fixtures/**', 'viewer/dist/**', 'bench/out/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      'no-constant-condition': ['error', { checkLoops: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // Scripts, benchmarks and tests run in Node; the viewer's page and worker in a browser.
  { files: ['bench/**', 'scripts/**', 'test/**', '*.js', '*.mjs'], languageOptions: { globals: { ...globals.node } } },
  { files: ['viewer/**'], languageOptions: { globals: { ...globals.browser } } },
);
