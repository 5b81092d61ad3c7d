import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Generous: on a busy machine starting Fastify instances and sockets takes a while. No test
    // asserts on speed, so a longer limit only keeps a slow run from being reported as a failure.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
