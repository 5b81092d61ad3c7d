import type { AcquireOptions, CloseOptions, DriverConnection } from './driver.js';
import { check } from './validate.js';

/** The deadline of a driver's `close(options)`: `timeoutMs`, 5000 ms by default. */
export function closeTimeoutOf(options: CloseOptions): number {
  return check.integer('timeoutMs', options.timeoutMs ?? 5000, 0);
}

/** The deadline of a driver's `acquire(options)`: `timeoutMs`, or the driver's `acquireTimeoutMs`. */
export function acquireTimeoutOf(options: AcquireOptions, acquireTimeoutMs: number): number {
  return options.timeoutMs === undefined ? acquireTimeoutMs : check.integer('timeoutMs', options.timeoutMs);
}

/**
 * The `close(options)` of a driver that may have created its client: the first call marks the
 * driver closed and runs `refuse` (fail the callers waiting for a lease); when the driver owns its
 * client, `end(timeoutMs)` runs once and every call awaits it. Idempotent.
 */
export class DriverClose {
  private ending: Promise<void> | undefined;
  /** True once `close()` was called: the driver refuses new leases. */
  closed = false;

  constructor(
    private readonly owned: boolean,
    private readonly end: (timeoutMs: number) => Promise<void>,
    private readonly refuse: () => void = () => undefined,
  ) {}

  async close(options: CloseOptions): Promise<void> {
    const timeoutMs = closeTimeoutOf(options);
    if (!this.closed) {
      this.closed = true;
      this.refuse();
    }
    if (!this.owned) return;
    this.ending ??= this.end(timeoutMs);
    await this.ending;
  }
}

/** Runs `use` on a connection leased from `driver`, releasing it however `use` ends. */
export async function withLease<T>(
  driver: { acquire(): Promise<DriverConnection> },
  use: (connection: DriverConnection) => Promise<T>,
): Promise<T> {
  const connection = await driver.acquire();
  try {
    return await use(connection);
  } finally {
    connection.release();
  }
}
