import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The files spend most of their time waiting on real servers (Redis, Kafka, RabbitMQ, NATS,
    // Postgres and private ones they start), not on the CPU: two at a time, even on 2 CPUs.
    maxWorkers: 2,
  },
});
