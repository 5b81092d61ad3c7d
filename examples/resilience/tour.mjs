// A runnable tour of @infra/resilience against a real (local, deliberately flaky) HTTP service.
// Run with `pnpm example:resilience` from the repository root.
import { createServer } from 'node:http';
import { CircuitBreaker, RateLimiter, retry, timeout, wrap, isResilienceError } from '@infra/resilience';

// A payment service that fails for a while, then recovers.
let healthy = false;
const server = createServer((req, res) => {
  if (!healthy) {
    res.writeHead(503, { 'retry-after': '0' }).end('unavailable');
    return;
  }
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ charged: true }));
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
const url = `http://127.0.0.1:${/** @type {import('node:net').AddressInfo} */ (server.address()).port}/pay`;

const paymentServiceBreaker = new CircuitBreaker('payment-service', {
  failureThreshold: 0.5,
  resetTimeoutMs: 1000,
  timeoutMs: 500,
  minimumThroughput: 4,
});
paymentServiceBreaker.on('stateChange', ({ from, to }) => console.log(`  breaker: ${from} -> ${to}`));

const policy = wrap(retry({ maxAttempts: 2, initialDelayMs: 20 }), paymentServiceBreaker, timeout(1000));

/** @param {number} amount */
async function processPayment(amount) {
  return policy.execute(async ({ signal, attempt }) => {
    const response = await fetch(url, { method: 'POST', body: JSON.stringify({ amount }), signal });
    if (!response.ok)
      throw Object.assign(new Error(`HTTP ${response.status} (attempt ${attempt})`), { status: response.status });
    return response.json();
  });
}

console.log('1. The payment service is down: calls fail, then the breaker opens and fails fast.');
for (let i = 1; i <= 6; i++) {
  const started = performance.now();
  try {
    await processPayment(i);
  } catch (error) {
    const ms = (performance.now() - started).toFixed(1);
    console.log(
      `  payment ${i}: ${isResilienceError(error, 'CIRCUIT_OPEN') ? 'rejected by the open breaker' : error instanceof Error ? error.message : error} (${ms} ms)`,
    );
  }
}

console.log('2. The service recovers; after resetTimeoutMs a probe closes the breaker.');
healthy = true;
await new Promise((resolve) => setTimeout(resolve, 1000));
console.log('  payment 7:', await processPayment(7));
console.log('  stats:', JSON.stringify(paymentServiceBreaker.stats().totals));

console.log('3. A rate limiter admits 3 requests per second per user.');
const limiter = new RateLimiter({ limit: 3, windowMs: 1000, algorithm: 'token-bucket' });
for (let i = 1; i <= 5; i++) {
  const decision = await limiter.consume('user-42');
  console.log(
    `  request ${i}: ${decision.allowed ? 'allowed' : `limited, retry in ${Math.ceil(decision.retryAfterMs)} ms`} (remaining ${decision.remaining})`,
  );
}

server.close();
