// Health checks with @infra/health: a critical database check and a non-critical cache check,
// each bounded by its own timeout, aggregated into one report.
import { HealthCheckService } from '@infra/health';

// Stand-ins for real clients: the database answers, the cache is stalled (it would answer in 10 s)
// but gives up when its signal aborts, as a client that takes an AbortSignal does.
const dbConnection = {
  /** @param {{ signal: AbortSignal }} _options */
  async runHealthCheck(_options) {
    return { status: /** @type {const} */ ('pass'), message: 'connected' };
  },
};
const redis = {
  /** @param {{ signal: AbortSignal }} options */
  ping: ({ signal }) =>
    new Promise((resolve, reject) => {
      const answer = setTimeout(resolve, 10_000);
      signal.addEventListener('abort', () => {
        clearTimeout(answer);
        reject(signal.reason);
      });
    }),
};

const health = new HealthCheckService({ defaultTimeoutMs: 2000, cacheTtlMs: 1000 });

// The third argument is the critical flag, as in the documented usage...
health.register(
  'database',
  async ({ signal }) => {
    const result = await dbConnection.runHealthCheck({ signal });
    return { status: result.status, message: result.message };
  },
  true,
);

// ...or full options.
health.register(
  'redis',
  async ({ signal }) => {
    const started = performance.now();
    await redis.ping({ signal });
    return { status: 'pass', observedValue: performance.now() - started, observedUnit: 'ms' };
  },
  { critical: false, timeoutMs: 500, tags: ['cache'], componentType: 'datastore', measurement: 'responseTime' },
);

const report = await health.run(); // every check: the stalled cache turns it to warn after 500 ms
console.log(
  'report:',
  report.status,
  report.checks.map((check) => `${check.name}: ${check.status}`),
);
const ready = await health.ready(); // critical checks only
console.log('ready:', ready.status);
const cacheOnly = await health.run({ tags: ['cache'] });
console.log('cache:', cacheOnly.status);
