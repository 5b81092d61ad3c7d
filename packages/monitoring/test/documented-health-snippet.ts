// The documented health-check usage, as written, for the tests that prove it runs: the scheduler
// is the module-level default or one a test built, the database answer is the test's.

interface SnippetScheduler {
  registerHealthCheck(
    name: string,
    check: () => Promise<{ status: string; message: string }>,
    critical: boolean,
  ): unknown;
  startHealthChecks(options: { intervalMs: number; logAllChecks: boolean; sendToSentry: boolean }): unknown;
}

/** Registers the documented critical `database` check on `healthCheckScheduler` and starts it. */
export function runDocumentedHealthSnippet(
  healthCheckScheduler: SnippetScheduler,
  dbConnection: { runHealthCheck: () => Promise<{ status: string; message: string }> },
): void {
  // Register component health checks
  healthCheckScheduler.registerHealthCheck(
    'database',
    async () => {
      const result = await dbConnection.runHealthCheck();
      return {
        status: result.status,
        message: result.message,
      };
    },
    true, // Critical component
  );

  // Start periodic health checks
  healthCheckScheduler.startHealthChecks({
    intervalMs: 60000, // Check every minute
    logAllChecks: false,
    sendToSentry: true,
  });
}
