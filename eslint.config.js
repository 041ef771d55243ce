import js from '@eslint/js';
import prettier from 'eslint-config-prettier/flat';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * src/core/ imports only itself and the Node built-ins that compute without I/O (the same list,
 * and why each, in test/unit/import-graph.test.ts, which also checks the whole graph for cycles).
 * `depth` is how many folders below src/core/ the files are: a relative specifier climbing that
 * many levels plus one leaves the core.
 */
const CORE_BUILT_INS = ['buffer', 'crypto', 'net', 'url', 'zlib'];
function coreImports(depth) {
  const allowed = CORE_BUILT_INS.map((name) => `node:${name}`);
  const escape = '\\.\\./'.repeat(depth + 1);
  return {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `^(?!\\.|(?:${allowed.join('|')})$)`,
            message: 'src/core/ imports only itself and pure Node built-ins.',
          },
          { regex: `^${escape}`, message: 'src/core/ imports nothing from outside src/core/.' },
        ],
      },
    ],
  };
}

export default defineConfig(
  globalIgnores(['dist/', 'coverage/', 'node_modules/', '.ci/out/']),
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', '*.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      // TypeScript's noPropertyAccessFromIndexSignature asks for brackets on index signatures.
      '@typescript-eslint/dot-notation': ['error', { allowIndexSignaturePropertyAccess: true }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      'no-console': 'error',
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'exit', message: 'Only src/main.ts may exit the process.' },
      ],
    },
  },
  {
    files: ['src/main.ts', 'test/**', 'bench/**', 'scripts/**'],
    rules: { 'no-restricted-properties': 'off', 'no-console': 'off' },
  },
  {
    files: ['test/**', 'bench/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  { files: ['src/core/*.ts'], rules: coreImports(0) },
  { files: ['src/core/*/*.ts'], rules: coreImports(1) },
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
  prettier,
);
