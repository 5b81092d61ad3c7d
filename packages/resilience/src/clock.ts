/** `Date.now` as the module found it: when a test framework fakes the clock, `Date.now` is another function. */
const nativeNow: () => number = Date.now;

/** Reads served from one clock reading before the clock is read again. */
const READS_PER_READING = 64;

let reading = 0;
let readsLeft = 0;
let expiryPending = false;
/**
 * The one expiry timer, re-armed with `refresh()`: a new Timeout per millisecond costs an allocation (and an
 * async_hooks event when hooks are on).
 */
let expiry: NodeJS.Timeout | undefined;
/**
 * The `setTimeout` that made `expiry`: a timer of a fake clock that has since been uninstalled would never fire again.
 */
let expirySetTimeout: typeof setTimeout | undefined;

function expire(): void {
  expiryPending = false;
  readsLeft = 0;
}

/**
 * `Date.now()`, read at most once per millisecond and per 64 calls: for hot paths that need the
 * time to about a millisecond (cache TTLs, breaker windows) on machines where one clock read costs
 * as much as the rest of the work (lru-cache's `ttlResolution` idea). A reading is dropped by an
 * unref'd 1 ms timer, so between events of a quiet process every call reads the clock, and after
 * 64 calls, so that a long synchronous burst does not run on a frozen clock. A faked `Date.now`
 * (vitest, sinon) is always read directly, so `setSystemTime` is seen at once. Not for deadlines
 * or durations: a reading may be older than the call that uses it.
 */
export function cachedNow(): number {
  const now = Date.now;
  if (now !== nativeNow) return now();
  if (readsLeft > 0) {
    readsLeft--;
    return reading;
  }
  reading = nativeNow();
  readsLeft = READS_PER_READING - 1;
  // A pending expiry armed by a fake clock that is gone would never fire: arm a real one then.
  if (!expiryPending || expirySetTimeout !== setTimeout) {
    expiryPending = true;
    if (expiry !== undefined && expirySetTimeout === setTimeout) expiry.refresh();
    else {
      expirySetTimeout = setTimeout;
      expiry = setTimeout(expire, 1);
      expiry.unref();
    }
  }
  return reading;
}
