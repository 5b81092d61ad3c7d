import type { Logger } from '@infra/core';
import { logTarget, type PluginLoggerOption } from './log-target.js';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyPluginCallback, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { InvalidOptionError, check } from '../errors.js';
import { PROBLEM_CONTENT_TYPE, type ProblemDetails } from '../problem-details.js';
import { resolvePluginOptions } from './resolve-plugin-options.js';

/** A connection pool whose queue of waiting callers the plugin reads. */
export type PoolLike =
  /** `Persistence#driver` of `@infra/persistence` (its `stats().waiting`). */
  | { stats(): { waiting: number } }
  /** A `pg.Pool` (its `waitingCount`). */
  | { readonly waitingCount: number };

/** One measure of pressure and its bound. */
export interface PressureGauge {
  /** Named in the 503's detail and the log line. */
  name: string;
  /** Read on every request: keep it cheap. */
  value: () => number;
  /** Requests are refused while `value()` is above this. */
  max: number;
}

export interface LoadSheddingOptions extends PluginLoggerOption {
  /**
   * The database pool: requests are refused while more than `maxPoolWaiting` callers wait for one
   * of its connections, before they join the queue and time out there.
   * @default undefined (no pool gauge)
   */
  pool?: PoolLike;
  /**
   * Most callers waiting for a pool connection before requests are refused.
   * @default 2 × the pool size is a sound start; without a value, 10
   */
  maxPoolWaiting?: number;
  /**
   * Mean event-loop delay (ms, over the last `sampleIntervalMs`) above which requests are refused;
   * 0 turns the gauge off.
   * @default 1000
   */
  maxEventLoopDelayMs?: number;
  /**
   * How often the event-loop delay is sampled, in ms.
   * @default 500
   */
  sampleIntervalMs?: number;
  /** More gauges (queue lengths, memory, ...). @default [] */
  gauges?: PressureGauge[];
  /**
   * `Retry-After` of a refused request, in ms (rounded up to seconds).
   * @default 1000
   */
  retryAfterMs?: number;
  /**
   * Requests never refused, e.g. health probes (which must tell the truth under load).
   * @default () => false
   */
  skip?: (request: FastifyRequest) => boolean;
}

/**
 * Load shedding for the routes of the context it is registered in: while the database pool's
 * queue or the event-loop delay is above its bound, a request is answered at once with a 503
 * `OVERLOADED` problem and `Retry-After`, before any work starts, instead of waiting for a
 * connection it would not get in time.
 */
export const loadSheddingPlugin: FastifyPluginCallback<LoadSheddingOptions> = fp<LoadSheddingOptions>(
  (app, options, done) => {
    const o = resolvePluginOptions(resolve, options, done);
    if (o === undefined) return;
    const gauges = [...o.gauges];
    if (o.maxEventLoopDelayMs > 0) {
      const histogram = monitorEventLoopDelay({ resolution: 10 });
      histogram.enable();
      let delayMs = 0;
      const timer = setInterval(() => {
        // The histogram's resolution adds itself to every sample: subtract it.
        delayMs = Math.max(0, histogram.mean / 1e6 - 10);
        histogram.reset();
      }, o.sampleIntervalMs);
      timer.unref();
      app.addHook('onClose', (_instance, hookDone) => {
        clearInterval(timer);
        histogram.disable();
        hookDone();
      });
      gauges.push({ name: 'event-loop delay (ms)', value: () => delayMs, max: o.maxEventLoopDelayMs });
    }
    const retryAfter = String(Math.max(1, Math.ceil(o.retryAfterMs / 1000)));

    app.addHook('onRequest', async (request, reply) => {
      if (o.skip(request)) return;
      for (const gauge of gauges) {
        const value = gauge.value();
        if (!(value > gauge.max)) continue;
        const body: ProblemDetails = {
          type: 'about:blank',
          title: 'Service Unavailable',
          status: 503,
          detail: 'The service is overloaded; retry later.',
          instance: request.url.split('?', 1)[0],
          code: 'OVERLOADED',
          requestId: request.id,
          retryAfterMs: o.retryAfterMs,
        };
        o.log(request).warn({ code: 'OVERLOADED', gauge: gauge.name, value, max: gauge.max }, 'request shed');
        return reply.code(503).header('retry-after', retryAfter).type(PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
      }
      return undefined;
    });
    done();
  },
  { name: '@infra/api/load-shedding', fastify: '5.x' },
);

interface Resolved {
  gauges: PressureGauge[];
  maxEventLoopDelayMs: number;
  sampleIntervalMs: number;
  retryAfterMs: number;
  skip: (request: FastifyRequest) => boolean;
  log: (request: FastifyRequest) => Logger;
}

function resolve(options: LoadSheddingOptions): Resolved {
  const o = check.plainObject('options', options) as Partial<LoadSheddingOptions>;
  const gauges: PressureGauge[] = [];
  if (o.pool !== undefined) {
    const pool = o.pool as Partial<{ stats: () => { waiting: number }; waitingCount: number }> | null;
    const max = check.integer('maxPoolWaiting', o.maxPoolWaiting ?? 10, 0);
    if (typeof pool?.stats === 'function') {
      const stats = pool.stats.bind(pool);
      gauges.push({ name: 'database pool waiting', value: () => stats().waiting, max });
    } else if (typeof pool?.waitingCount === 'number') {
      gauges.push({ name: 'database pool waiting', value: () => (pool as { waitingCount: number }).waitingCount, max });
    } else {
      throw new InvalidOptionError('pool', pool, 'a pool with stats().waiting or waitingCount');
    }
  } else if (o.maxPoolWaiting !== undefined) {
    throw new InvalidOptionError('maxPoolWaiting', o.maxPoolWaiting, 'to be set together with `pool`');
  }
  const extra = o.gauges ?? [];
  if (!Array.isArray(extra)) throw new InvalidOptionError('gauges', extra, 'an array of { name, value, max }');
  extra.forEach((gauge: Partial<PressureGauge>, index) => {
    check.plainObject(`gauges[${index}]`, gauge);
    gauges.push({
      name: check.nonEmptyString(`gauges[${index}].name`, gauge.name),
      value: check.fn<() => number>(`gauges[${index}].value`, gauge.value),
      max: check.nonNegative(`gauges[${index}].max`, gauge.max),
    });
  });
  return {
    gauges,
    maxEventLoopDelayMs: check.nonNegative('maxEventLoopDelayMs', o.maxEventLoopDelayMs ?? 1000),
    sampleIntervalMs: check.positive('sampleIntervalMs', o.sampleIntervalMs ?? 500),
    retryAfterMs: check.positive('retryAfterMs', o.retryAfterMs ?? 1000),
    skip: check.optionalFn<Resolved['skip']>('skip', o.skip) ?? (() => false),
    log: logTarget(o.logger),
  };
}
