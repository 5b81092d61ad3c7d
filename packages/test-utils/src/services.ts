import { randomBytes } from 'node:crypto';

/** Redis used by tests: `REDIS_URL`, else the local server. */
export const redisUrl: string = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Postgres used by tests: `DATABASE_URL`, else the local server's `test` database. */
export const databaseUrl: string = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A prefix unique to this test run, for Redis keys, Postgres schemas and topic names, so that
 * two runs (or two test files) never see each other's data. Lowercase letters, digits and `_`.
 */
export function uniqueName(label: string): string {
  return `t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A port on which nothing listens (bound, then released), for "service down" tests. */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
