import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Safety nets against a hung test, not speed limits: eventual conditions poll with deadlines of
    // their own (20 s), and nothing here may fail because the machine is slow.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
