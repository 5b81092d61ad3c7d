import { check } from './errors.js';

/** Totals of the calls a window currently holds. */
export interface WindowTotals {
  total: number;
  failures: number;
  slow: number;
}

/** Sliding window of call outcomes used by the circuit breaker. */
export interface OutcomeWindow {
  /** False when `record` ignores its `now` argument, so that callers can skip reading the clock. */
  readonly usesClock: boolean;
  record(failure: boolean, slow: boolean, now: number): void;
  totals(now: number): WindowTotals;
  reset(): void;
}

/** How the breaker measures its failure rate. */
export type SlidingWindowOptions =
  /** The last `size` calls. */
  | { kind: 'count'; size: number }
  /** The calls of the last `durationMs`, kept in `buckets` slices (default 10). */
  | { kind: 'time'; durationMs: number; buckets?: number };

const FAILURE = 1;
const SLOW = 2;

/** The last N outcomes in a ring buffer with running totals: O(1) per call, N bytes of memory. */
export class CountWindow implements OutcomeWindow {
  readonly usesClock = false;
  private readonly ring: Uint8Array;
  private next = 0;
  private filled = 0;
  private failures = 0;
  private slow = 0;

  constructor(size: number) {
    this.ring = new Uint8Array(check.integer('slidingWindow.size', size));
  }

  record(failure: boolean, slow: boolean): void {
    const flags = (failure ? FAILURE : 0) | (slow ? SLOW : 0);
    if (this.filled === this.ring.length) {
      const old = this.ring[this.next] ?? 0;
      if (old & FAILURE) this.failures--;
      if (old & SLOW) this.slow--;
    } else {
      this.filled++;
    }
    this.ring[this.next] = flags;
    if (failure) this.failures++;
    if (slow) this.slow++;
    this.next = this.next + 1 === this.ring.length ? 0 : this.next + 1;
  }

  totals(): WindowTotals {
    return { total: this.filled, failures: this.failures, slow: this.slow };
  }

  reset(): void {
    this.ring.fill(0);
    this.next = 0;
    this.filled = 0;
    this.failures = 0;
    this.slow = 0;
  }
}

/** Outcomes of the last `durationMs`, in fixed buckets: O(1) per call, memory fixed by `buckets`. */
export class TimeWindow implements OutcomeWindow {
  readonly usesClock = true;
  private readonly bucketMs: number;
  private readonly epochs: Float64Array;
  private readonly counts: Uint32Array;
  private readonly failures: Uint32Array;
  private readonly slow: Uint32Array;

  constructor(durationMs: number, buckets = 10) {
    check.positive('slidingWindow.durationMs', durationMs);
    check.integer('slidingWindow.buckets', buckets);
    this.bucketMs = durationMs / buckets;
    this.epochs = new Float64Array(buckets).fill(-1);
    this.counts = new Uint32Array(buckets);
    this.failures = new Uint32Array(buckets);
    this.slow = new Uint32Array(buckets);
  }

  record(failure: boolean, slow: boolean, now: number): void {
    const epoch = Math.floor(now / this.bucketMs);
    const i = epoch % this.epochs.length;
    // Only a newer epoch takes the bucket over: a reading from a clock that stepped back is
    // counted where it lands rather than wiping newer counts.
    if ((this.epochs[i] ?? -1) < epoch) {
      this.epochs[i] = epoch;
      this.counts[i] = 0;
      this.failures[i] = 0;
      this.slow[i] = 0;
    }
    this.counts[i] = (this.counts[i] ?? 0) + 1;
    if (failure) this.failures[i] = (this.failures[i] ?? 0) + 1;
    if (slow) this.slow[i] = (this.slow[i] ?? 0) + 1;
  }

  totals(now: number): WindowTotals {
    const oldest = Math.floor(now / this.bucketMs) - this.epochs.length;
    const sum: WindowTotals = { total: 0, failures: 0, slow: 0 };
    for (let i = 0; i < this.epochs.length; i++) {
      if ((this.epochs[i] ?? -1) > oldest) {
        sum.total += this.counts[i] ?? 0;
        sum.failures += this.failures[i] ?? 0;
        sum.slow += this.slow[i] ?? 0;
      }
    }
    return sum;
  }

  reset(): void {
    this.epochs.fill(-1);
  }
}

export function createWindow(options: SlidingWindowOptions): OutcomeWindow {
  check.oneOf('slidingWindow.kind', options.kind, ['count', 'time']);
  return options.kind === 'count' ? new CountWindow(options.size) : new TimeWindow(options.durationMs, options.buckets);
}
