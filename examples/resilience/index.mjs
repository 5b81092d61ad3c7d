// A circuit breaker around a payment service that fails for a while: calls fail fast with
// CIRCUIT_OPEN while it is open, and go through again once the service is back.
import { CircuitBreaker, isResilienceError } from '@infra/resilience';

// A stand-in for a remote payment service: down for its first four calls, then healthy.
let calls = 0;
const paymentService = {
  /** @param {{ amount: number }} paymentData @param {{ signal: AbortSignal }} options */
  async process(paymentData, { signal }) {
    signal.throwIfAborted();
    calls += 1;
    if (calls <= 4) throw new Error('payment service unavailable');
    return { charged: paymentData.amount };
  },
};

const paymentServiceBreaker = new CircuitBreaker('payment-service', {
  failureThreshold: 0.5, // 50% failure rate opens the circuit
  resetTimeoutMs: 200, // until a trial call is let through
  timeoutMs: 5000, // before one operation counts as failed
  minimumThroughput: 4, // calls seen before the failure rate counts
});
paymentServiceBreaker.on('stateChange', ({ from, to }) => console.log(`breaker: ${from} -> ${to}`));

/** @param {{ amount: number }} paymentData */
async function processPayment(paymentData) {
  return paymentServiceBreaker.execute(async ({ signal }) => {
    return await paymentService.process(paymentData, { signal });
  });
}

for (let attempt = 1; attempt <= 8; attempt += 1) {
  try {
    console.log('paid', await processPayment({ amount: 10 }));
  } catch (error) {
    if (isResilienceError(error, 'CIRCUIT_OPEN')) console.log('circuit open: not calling the service');
    else console.log('payment failed:', error instanceof Error ? error.message : error);
  }
  await new Promise((resolve) => setTimeout(resolve, 60));
}
console.log(`the service saw ${calls} calls`);
