import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // One PGlite template per run; test files start their PGlite from it (test/databases.ts).
    globalSetup: ['test/global-setup.ts'],
    // Safety nets against a hung test, not speed limits: PGlite set-up is shared and cheap, and
    // eventual conditions poll with deadlines of their own.
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
