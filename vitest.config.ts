import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // vitest's default is one worker fewer than the CPUs: on a 2-core machine (CI's) that ran every file
    // in one process, one after another (345 s). Many files wait on Python or child processes, so two
    // workers keep both cores busy.
    maxWorkers: 2,
    minWorkers: 1,
  },
});
