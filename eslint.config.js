// Lint rules that keep the layering honest (DESIGN.md section 2):
// domain code in src/ speaks to hardware only through hal/types; drivers and simulators
// are reached only from the composition root (src/composition/), which loads them lazily.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const hardwareModules = ['serialport', '@serialport/*', 'onoff', 'epoll'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'src/kiosk/public/**', 'sim/panel/public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/composition/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: hardwareModules,
              message: 'Domain code must not touch hardware modules; use hal/types and let src/composition wire drivers.',
            },
            {
              regex: '^(\\.\\./)+hal/(?!types(\\.js)?$)',
              message: 'Domain code may import only hal/types; drivers are wired by src/composition.',
            },
            {
              regex: '^(\\.\\./)+sim/',
              message: 'Domain code must not import the simulator; src/composition wires it.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/composition/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: hardwareModules,
              message: 'The composition root loads hardware modules lazily with await import().',
              allowTypeImports: true,
            },
            {
              regex: '^(\\.\\./)+(hal/(?!types)|sim/)',
              message: 'Load drivers and simulators lazily with await import() so their natives load only when chosen.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
);
