import { InvalidOptionError } from './errors.js';
import type { CounterMetric } from './metric-handles.js';
import type { MetricsCollector } from './metrics-collector.js';
import { nonEmptyString, optionalObject } from './validate.js';

/**
 * Anything with `on(event, listener)` returning an unsubscribe function: an @infra/resilience
 * CircuitBreaker, an @infra/cache cache, an @infra/persistence TransactionManager, or an EventEmitter.
 */
export interface EventSource {
  on(event: string, listener: (payload: unknown) => void): unknown;
  off?(event: string, listener: (payload: unknown) => void): unknown;
}

/** Options of a {@link ComponentMonitor}. */
export interface ComponentMonitorOptions {
  /** Where the metrics go. */
  metrics: MetricsCollector;
}

type Handlers = Record<string, (payload: Record<string, unknown>) => void>;

/** A cache that counts its own lookups (an @infra/cache cache's `stats()`), read at each scrape. */
interface CountedCache {
  stats(): { name?: unknown; hits?: unknown; misses?: unknown };
  /** The counts already added to `cache_requests_total`. */
  hits: number;
  misses: number;
}

/** By collector: the caches whose lookups `cache_requests_total` reads from their own counts. */
const countedCaches = new WeakMap<MetricsCollector, Set<CountedCache>>();

const BREAKER_STATES: Record<string, number> = { closed: 0, 'half-open': 1, open: 2, isolated: 3 };
const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Turns the events of the other @infra packages into metrics, by their event names and payloads
 * only (no import of those packages). Keys and ids never become labels.
 */
export class ComponentMonitor {
  private readonly metrics: MetricsCollector;

  constructor(options: ComponentMonitorOptions) {
    const o = optionalObject('options', options) as Partial<ComponentMonitorOptions>;
    if (typeof (o.metrics as Partial<MetricsCollector> | undefined)?.counter !== 'function') {
      throw new InvalidOptionError('metrics', o.metrics, 'a MetricsCollector');
    }
    this.metrics = o.metrics as MetricsCollector;
  }

  /**
   * A circuit breaker's `stateChange { name, from, to }`, `success`/`failure { name, durationMs }`,
   * `reject { name }` and `timeout { name }` → `breaker_state`, `breaker_transitions_total`,
   * `breaker_calls_total{outcome}`, `breaker_call_duration_seconds`.
   */
  attachBreaker(breaker: EventSource): () => void {
    assertSource(breaker);
    const m = this.metrics;
    const state = m.gauge({
      name: 'breaker_state',
      help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open, 3 isolated',
      labelNames: ['breaker'],
    });
    const transitions = m.counter({
      name: 'breaker_transitions_total',
      help: 'Circuit breaker state changes',
      labelNames: ['breaker', 'to'],
    });
    const calls = m.counter({
      name: 'breaker_calls_total',
      help: 'Calls through a circuit breaker by outcome',
      labelNames: ['breaker', 'outcome'],
    });
    const duration = m.histogram({
      name: 'breaker_call_duration_seconds',
      help: 'Duration of calls through a circuit breaker',
      labelNames: ['breaker', 'outcome'],
      buckets: DURATION_BUCKETS,
    });
    const call = (outcome: string) => (e: Record<string, unknown>) => {
      const name = text(e.name);
      calls.inc({ breaker: name, outcome });
      if (typeof e.durationMs === 'number' && e.durationMs >= 0)
        duration.observe({ breaker: name, outcome }, e.durationMs / 1000);
    };
    return subscribe(breaker, {
      stateChange: (e) => {
        const to = text(e.to);
        const value = BREAKER_STATES[to];
        if (value !== undefined) state.set({ breaker: text(e.name) }, value);
        transitions.inc({ breaker: text(e.name), to });
      },
      success: call('success'),
      failure: call('failure'),
      reject: call('reject'),
      timeout: call('timeout'),
    });
  }

  /**
   * A cache's `hit`/`miss`, `set`/`delete`/`clear`/`stampedeDedup`/`staleServed`/`invalidate`,
   * `evict { reason }`, `error { operation }` and `load { durationMs, error }` events (payloads
   * carry `cache`) → `cache_requests_total{result}`, `cache_events_total{event}`,
   * `cache_evictions_total{reason}`, `cache_errors_total{operation}`, `cache_load_duration_seconds{outcome}`.
   * A cache with `stats()` (an @infra/cache cache) has its hits and misses read from its own counts
   * at each scrape instead of from events. The returned function detaches it, keeping what it
   * counted since the last scrape.
   */
  attachCache(cache: EventSource): () => void {
    assertSource(cache);
    const m = this.metrics;
    let counted = countedCaches.get(m);
    if (counted === undefined) countedCaches.set(m, (counted = new Set()));
    const caches = counted;
    const requests = m.counter({
      name: 'cache_requests_total',
      help: 'Cache lookups by result',
      labelNames: ['cache', 'result'],
      collect: () => {
        for (const entry of caches) addLookups(requests, entry);
      },
    });
    const events = m.counter({
      name: 'cache_events_total',
      help: 'Cache writes, deletes and coordination events',
      labelNames: ['cache', 'event'],
    });
    const evictions = m.counter({
      name: 'cache_evictions_total',
      help: 'Entries evicted by reason',
      labelNames: ['cache', 'reason'],
    });
    const errors = m.counter({
      name: 'cache_errors_total',
      help: 'Store or loader failures absorbed by the cache',
      labelNames: ['cache', 'operation'],
    });
    const loads = m.histogram({
      name: 'cache_load_duration_seconds',
      help: 'Duration of cache loaders by outcome',
      labelNames: ['cache', 'outcome'],
      buckets: DURATION_BUCKETS,
    });
    const event = (name: string) => (e: Record<string, unknown>) => {
      events.inc({ cache: text(e.cache), event: name });
    };
    // A cache that keeps its own counts of hits and misses is read at each scrape: a lookup then
    // costs it one increment of its own, not an event and a labelled metric update.
    const stats = (cache as Partial<CountedCache>).stats;
    let own: CountedCache | undefined;
    if (typeof stats === 'function') {
      const read = () => stats.call(cache);
      // Counted from now on, as the events would be: a cache detached and attached again is not
      // counted twice.
      const now = read();
      own = { stats: read, hits: count(now.hits), misses: count(now.misses) };
    }
    const lookups: Handlers =
      own === undefined
        ? {
            hit: (e) => {
              requests.inc({ cache: text(e.cache), result: 'hit' });
            },
            miss: (e) => {
              requests.inc({ cache: text(e.cache), result: 'miss' });
            },
          }
        : {};
    if (own !== undefined) caches.add(own);
    const unsubscribe = subscribe(cache, {
      ...lookups,
      set: event('set'),
      delete: event('delete'),
      clear: event('clear'),
      stampedeDedup: event('stampede_dedup'),
      staleServed: event('stale_served'),
      invalidate: event('invalidate'),
      evict: (e) => {
        evictions.inc({ cache: text(e.cache), reason: text(e.reason) });
      },
      error: (e) => {
        errors.inc({ cache: text(e.cache), operation: text(e.operation) });
      },
      load: (e) => {
        if (typeof e.durationMs !== 'number' || e.durationMs < 0) return;
        const outcome = e.error === undefined || e.error === null ? 'ok' : 'error';
        loads.observe({ cache: text(e.cache), outcome }, e.durationMs / 1000);
      },
    });
    return () => {
      unsubscribe();
      if (own === undefined || !caches.delete(own)) return;
      addLookups(requests, own); // what it counted since the last scrape is kept
    };
  }

  /**
   * A transaction manager's `commit`/`rollback { durationMs }`, `retry`, `hookError { hook }` and
   * `abandoned` events → `db_transactions_total{outcome}`, `db_transaction_duration_seconds{outcome}`,
   * `db_transaction_retries_total`, `db_transaction_hook_errors_total{hook}`.
   */
  attachTransactions(manager: EventSource, options: { name?: string } = {}): () => void {
    assertSource(manager);
    const m = this.metrics;
    const name = options.name === undefined ? 'default' : nonEmptyString('name', options.name);
    const total = m.counter({
      name: 'db_transactions_total',
      help: 'Finished transactions by outcome',
      labelNames: ['manager', 'outcome'],
    });
    const duration = m.histogram({
      name: 'db_transaction_duration_seconds',
      help: 'Transaction duration by outcome',
      labelNames: ['manager', 'outcome'],
      buckets: DURATION_BUCKETS,
    });
    const retries = m.counter({
      name: 'db_transaction_retries_total',
      help: 'Transactions retried (serialization failures, deadlocks)',
      labelNames: ['manager'],
    });
    const hookErrors = m.counter({
      name: 'db_transaction_hook_errors_total',
      help: 'afterCommit/afterRollback hooks that threw',
      labelNames: ['manager', 'hook'],
    });
    const finished = (outcome: string) => (e: Record<string, unknown>) => {
      total.inc({ manager: name, outcome });
      if (typeof e.durationMs === 'number' && e.durationMs >= 0)
        duration.observe({ manager: name, outcome }, e.durationMs / 1000);
    };
    return subscribe(manager, {
      commit: finished('commit'),
      rollback: finished('rollback'),
      abandoned: finished('abandoned'),
      retry: () => {
        retries.inc({ manager: name });
      },
      hookError: (e) => {
        hookErrors.inc({ manager: name, hook: text(e.hook) });
      },
    });
  }
}

function assertSource(source: unknown): void {
  if (typeof (source as Partial<EventSource> | null)?.on !== 'function') {
    throw new InvalidOptionError('source', source, 'an object with on(event, listener)');
  }
}

function subscribe(source: EventSource, handlers: Handlers): () => void {
  const unsubscribes = Object.entries(handlers).map(([event, handler]) => {
    const listener = (payload: unknown): void => {
      // A malformed payload must not throw into the component that emitted it.
      if (typeof payload === 'object' && payload !== null) handler(payload as Record<string, unknown>);
    };
    const result = source.on(event, listener);
    return typeof result === 'function' ? (result as () => void) : () => source.off?.(event, listener);
  });
  return () => {
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}

/** Adds to `cache_requests_total` what `entry` counted since the last read. */
function addLookups(requests: CounterMetric<'cache' | 'result'>, entry: CountedCache): void {
  const stats = entry.stats();
  const name = text(stats.name);
  const hits = count(stats.hits);
  const misses = count(stats.misses);
  // A count that went down was reset at its source: counting restarts from there.
  if (hits > entry.hits) requests.inc({ cache: name, result: 'hit' }, hits - entry.hits);
  if (misses > entry.misses) requests.inc({ cache: name, result: 'miss' }, misses - entry.misses);
  entry.hits = hits;
  entry.misses = misses;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : 0;
}

// Label values come from other packages' events: keep them short and never undefined.
function text(value: unknown): string {
  return typeof value === 'string' && value.length > 0 ? value.slice(0, 80) : 'unknown';
}
