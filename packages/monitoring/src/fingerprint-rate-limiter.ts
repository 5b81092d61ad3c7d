interface Window {
  start: number;
  count: number;
  suppressed: number;
}

/**
 * Fixed-window budget per fingerprint, so a hot loop of one error cannot flood the transports
 * while a new, different error still gets through. Bounded: the least recently seen fingerprints
 * are forgotten first.
 */
export class FingerprintRateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly windowMs: number,
    private readonly maxPerWindow: number,
    private readonly maxFingerprints: number,
    private readonly now: () => number,
  ) {}

  /**
   * Returns false when the event is over budget (it is counted as suppressed); otherwise the
   * number of events suppressed since the last admitted one, which the caller reports.
   */
  admit(fingerprint: string): number | false {
    const now = this.now();
    let window = this.windows.get(fingerprint);
    if (window) {
      // Re-insert so that Map order tracks recency.
      this.windows.delete(fingerprint);
    } else {
      window = { start: now, count: 0, suppressed: 0 };
    }
    this.windows.set(fingerprint, window);
    if (now - window.start >= this.windowMs) {
      window.start = now;
      window.count = 0;
    }
    this.evict();
    if (window.count >= this.maxPerWindow) {
      window.suppressed++;
      return false;
    }
    window.count++;
    const suppressed = window.suppressed;
    window.suppressed = 0;
    return suppressed;
  }

  private evict(): void {
    while (this.windows.size > this.maxFingerprints) {
      const oldest = this.windows.keys().next();
      if (oldest.done === true) return;
      this.windows.delete(oldest.value);
    }
  }
}
