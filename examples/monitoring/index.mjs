// Periodic health checks with @infra/monitoring: a critical database check that starts failing is
// logged and reported to the error monitor once, and the metrics are there to scrape.
import { healthCheckScheduler, metricsCollector } from '@infra/monitoring';

// A stand-in for a database connection that goes down after its second check.
let checks = 0;
const dbConnection = {
  async runHealthCheck() {
    checks += 1;
    return checks <= 2
      ? { status: /** @type {const} */ ('pass'), message: 'connected' }
      : { status: /** @type {const} */ ('fail'), message: 'connection refused' };
  },
};

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
  intervalMs: 100, // every 100 ms here; a minute is a usual production value
  logAllChecks: false,
  sendToSentry: false, // true also reports failing critical checks to Sentry (@sentry/node)
});

while (checks < 4) await new Promise((resolve) => setTimeout(resolve, 50));
await healthCheckScheduler.close();
console.log('last report:', healthCheckScheduler.getLastReport()?.status);

const completed = metricsCollector.counter({
  name: 'challenges_completed_total',
  help: 'Completed challenges',
  labelNames: ['difficulty'],
});
completed.inc({ difficulty: 'hard' });
console.log((await metricsCollector.metrics()).split('\n').filter((line) => line.startsWith('challenges_')));
