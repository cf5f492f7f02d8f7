// Lint rules that keep the layering honest (DESIGN.md section 2, docs/architecture.md):
// - kernel/ (errors, clock, random, log, backoff, board limits) imports nothing of ours;
// - hal/ imports only hal/ and kernel/ (its option types are its own, mapped from config in
//   src/composition/halOptions.ts);
// - src/ speaks to hardware only through hal/types; drivers and simulators are reached only
//   from the composition root (src/composition/), which loads them lazily;
// - src/domain imports neither the kiosk, nor sync, nor the composition root or the CLIs;
// - sim/ (the hardware simulator) imports hal/ and kernel/, never the runtime (store, sync,
//   domain, kiosk); its pty CLI may parse the bus config, its panel may add kiosk routes;
// - fleet/ (the fleet simulator) runs the real sync stack on purpose, but no hardware, no
//   kiosk and no composition root.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const hardwareModules = ['serialport', '@serialport/*', 'onoff', 'epoll'];

const hardwareRule = {
  group: hardwareModules,
  message: 'Domain code must not touch hardware modules; use hal/types and let src/composition wire drivers.',
};
const halOnlyTypes = {
  regex: '^(\\.\\./)+hal/(?!types(\\.js)?$)',
  message: 'Domain code may import only hal/types; drivers are wired by src/composition.',
};
const noSim = {
  regex: '^(\\.\\./)+(sim|fleet)/',
  message: 'Domain code must not import the simulators; src/composition wires them.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'sim/panel/public/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // The kiosk page: browser ES modules, type-checked by tsconfig.kiosk.json (checkJs).
    files: ['src/kiosk/public/**/*.js'],
    languageOptions: { sourceType: 'module', globals: { ...globals.browser } },
    rules: {
      'no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
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
    ignores: ['src/composition/**', 'src/domain/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [hardwareRule, halOnlyTypes, noSim] }],
    },
  },
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            hardwareRule,
            halOnlyTypes,
            noSim,
            {
              regex: '^\\.\\./(kiosk|sync|composition|cli|broker|update|metrics)/',
              message: 'The domain imports neither the kiosk nor sync (nor the composition root, CLIs, broker, updater or metrics): they depend on the domain, not the other way round.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['kernel/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^\\.\\./', message: 'The kernel imports nothing of ours: everything else builds on it.' }] },
      ],
    },
  },
  {
    files: ['hal/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(src|sim|fleet|test)/',
              message: 'hal imports only hal/ and kernel/ (errors, clock, random, log, backoff); map config onto hal/options.ts in src/composition.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['sim/**/*.ts'],
    ignores: ['sim/cli/**', 'sim/panel/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(src|fleet)/',
              message: 'The hardware simulator imports hal/ and kernel/, never the runtime (store, sync, domain, kiosk).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['sim/cli/**/*.ts', 'sim/panel/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+src/(store|sync|composition|cli|broker|update|metrics|crypto|credentials|codes)/',
              message: 'The simulator tools reach the runtime only through the bus config (pty CLI) and the kiosk router and Locker type (panel).',
            },
            { regex: '^(\\.\\./)+fleet/', message: 'The hardware simulator does not use the fleet simulator.' },
          ],
        },
      ],
    },
  },
  {
    files: ['fleet/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: hardwareModules, message: 'The fleet simulator has no hardware.' },
            {
              regex: '^\\.\\./(hal|sim)/|^\\.\\./src/(kiosk|composition|cli|broker|update|metrics)/',
              message: 'The fleet simulator runs the real outbox and sync stack, nothing of the hardware, the kiosk or the composition root.',
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
