// The documented circuit-breaker usage as a consumer writes it, with only the import path changed.
// The consumer check type-checks it against the packed @infra/resilience.
import { CircuitBreaker, isResilienceError, retry, wrap } from '@infra/resilience';

interface PaymentData {
  readonly amount: number;
  readonly currency: string;
}

interface PaymentService {
  process(data: PaymentData): Promise<{ readonly id: string }>;
}

declare const paymentService: PaymentService;

// Create a circuit breaker for an external service
const paymentServiceBreaker = new CircuitBreaker('payment-service', {
  failureThreshold: 0.5, // 50% failure rate triggers open circuit
  resetTimeout: 30000, // 30 seconds until trying again
  timeout: 5000, // 5 second timeout for operations
});

// Use the circuit breaker
export async function processPayment(paymentData: PaymentData): Promise<{ readonly id: string }> {
  return paymentServiceBreaker.execute(async () => {
    // Call to external payment service
    return await paymentService.process(paymentData);
  });
}

// Composition keeps the wrapped function's result type.
const resilient = wrap(retry({ maxAttempts: 3 }), paymentServiceBreaker);

export async function processWithRetry(paymentData: PaymentData): Promise<string> {
  try {
    const receipt = await resilient.execute(() => paymentService.process(paymentData));
    return receipt.id;
  } catch (error) {
    if (isResilienceError(error, 'CIRCUIT_OPEN')) return `unavailable (${error.code})`;
    throw error;
  }
}
