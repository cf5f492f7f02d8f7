import { defineConfig } from 'vitest/config';

// Groups: fast unit tests (in-process fakes allowed), integration scenarios (whole runtime on
// the simulator), interop (real Mosquitto, real pty, real Chromium), and the short seeded fuzz
// run (`npm run fuzz` runs the same files with the long budget, see test/fuzz/run.ts).
export default defineConfig({
  test: {
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results/vitest.json' }]] : ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'interop',
          include: ['test/interop/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'security',
          include: ['test/security/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'fuzz',
          include: ['test/fuzz/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          // The kiosk target runs lockerd in a child process: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
