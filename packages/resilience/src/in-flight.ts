/**
 * Counts the calls of a component that are still running, so that `close()` can wait for them
 * within its deadline.
 */
export class InFlight {
  private count = 0;
  private idle: (() => void) | undefined;

  get size(): number {
    return this.count;
  }

  /** A call starts; pair with {@link end} in a `finally`. */
  start(): void {
    this.count++;
  }

  /** A call has settled. */
  end(): void {
    if (--this.count === 0) this.idle?.();
  }

  /** Runs `call`, counted from its start until it settles. */
  async track<T>(call: () => Promise<T>): Promise<T> {
    this.start();
    try {
      return await call();
    } finally {
      this.end();
    }
  }

  /** Resolves when nothing runs any more, or after `timeoutMs`, whichever comes first. */
  async drained(timeoutMs: number): Promise<void> {
    if (this.count === 0) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.idle = resolve;
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    });
    clearTimeout(timer);
    this.idle = undefined;
  }
}
