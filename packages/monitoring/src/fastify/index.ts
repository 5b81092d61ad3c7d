import type { FastifyError, FastifyInstance, FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { metricsCollector as defaultCollector } from '../defaults.js';
import type { ErrorMonitor } from '../error-monitor.js';
import { InvalidOptionError } from '../errors.js';
import type { BoundHistogram } from '../metric-handles.js';
import type { MetricsCollector } from '../metrics-collector.js';
import { optionalBoolean, optionalObject } from '../validate.js';

/** Options of the {@link metricsPlugin} Fastify plugin. */
export interface MetricsPluginOptions {
  /** Where HTTP metrics are recorded and what `/metrics` exposes. @default the module's `metricsCollector` */
  collector?: MetricsCollector;
  /** Path of the Prometheus endpoint; `false` serves none. @default '/metrics' */
  path?: string | false;
  /** Record RED metrics (rate, errors, duration) for every route. @default true */
  recordHttp?: boolean;
  /** Route patterns not recorded. @default [path] */
  excludeRoutes?: string[];
  /** Route label of requests that matched no route (404s), so raw URLs never become labels. @default 'unmatched' */
  unmatchedRoute?: string;
  /** Buckets of `http_request_duration_seconds`. @default [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] */
  buckets?: number[];
  /** When set, errors that end in a 5xx response are captured here (domain `http`). @default undefined */
  errorMonitor?: Pick<ErrorMonitor, 'captureError'>;
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'];

/** By status class index, the bound duration series of one route and method. */
type RouteSeries = (BoundHistogram | undefined)[];

const plugin: FastifyPluginCallback<MetricsPluginOptions> = (fastify, options, done) => {
  try {
    setup(fastify, options);
    done();
  } catch (error) {
    done(error as Error);
  }
};

function setup(fastify: FastifyInstance, options: MetricsPluginOptions): void {
  const o = optionalObject('options', options) as MetricsPluginOptions;
  const collector = o.collector ?? defaultCollector;
  if (typeof (collector as Partial<MetricsCollector>).histogram !== 'function') {
    throw new InvalidOptionError('collector', collector, 'a MetricsCollector');
  }
  const path = o.path ?? '/metrics';
  if (path !== false && (typeof path !== 'string' || !path.startsWith('/'))) {
    throw new InvalidOptionError('path', path, 'a path starting with "/" or false');
  }
  const unmatched = o.unmatchedRoute ?? 'unmatched';
  if (typeof unmatched !== 'string' || unmatched === '')
    throw new InvalidOptionError('unmatchedRoute', unmatched, 'a non-empty string');
  const excluded = new Set(o.excludeRoutes ?? (path === false ? [] : [path]));

  // Both halves below answer in one onResponse hook: each hook costs Fastify a step per request.
  let record: ((request: FastifyRequest, reply: FastifyReply) => void) | undefined;
  let capture: ((request: FastifyRequest, reply: FastifyReply) => void) | undefined;

  if (optionalBoolean('recordHttp', o.recordHttp, true)) {
    // One histogram: its _count is the request count (rate, errors by status class), so a separate
    // request counter would export the same numbers twice and double the cost of every request.
    const duration = collector.histogram({
      name: 'http_request_duration_seconds',
      help: 'HTTP request duration by method, route pattern and status class',
      labelNames: ['method', 'route', 'status_class'],
      buckets: o.buckets ?? [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    });
    // Per route pattern and method, the bound series of each status class (prom-client's label
    // children), found once: the hook then neither builds label objects nor checks label names.
    const byRoute = new Map<string, Map<string, RouteSeries>>();
    const seriesOf = (route: string, method: string, status: number): BoundHistogram => {
      let byMethod = byRoute.get(route);
      if (byMethod === undefined) byRoute.set(route, (byMethod = new Map<string, RouteSeries>()));
      let byStatus = byMethod.get(method);
      if (byStatus === undefined) byMethod.set(method, (byStatus = []));
      // Created on first use, so that /metrics shows only the series that have happened.
      const status_class = STATUS_CLASSES[status] ?? 'other';
      return (byStatus[status] ??= duration.labels({ method, route, status_class }));
    };
    record = (request, reply) => {
      const route = routeOf(request, unmatched);
      if (excluded.has(route)) return;
      seriesOf(route, methodOf(request), statusIndex(reply.statusCode)).observe(reply.elapsedTime / 1000);
    };
  }

  const monitor = o.errorMonitor;
  if (monitor !== undefined) {
    if (typeof (monitor as Partial<ErrorMonitor>).captureError !== 'function') {
      throw new InvalidOptionError('errorMonitor', monitor, 'an ErrorMonitor');
    }
    // The status is known only once the application's error handler has answered: onError runs
    // before it (a coded error without statusCode may still become a 404), so the error is kept
    // until onResponse, which sees the status actually sent.
    const failed = new WeakMap<FastifyRequest, FastifyError>();
    fastify.addHook('onError', (request, _reply, error, hookDone) => {
      failed.set(request, error);
      hookDone();
    });
    capture = (request, reply) => {
      if (reply.statusCode < 500) return;
      const error = failed.get(request);
      if (error === undefined) return;
      monitor.captureError(error, {
        domain: 'http',
        tags: { method: methodOf(request), route: routeOf(request, unmatched), status: String(reply.statusCode) },
        context: { request: { method: request.method, url: request.url, headers: request.headers, id: request.id } },
      });
    };
  }

  if (record !== undefined || capture !== undefined) {
    const recordHttp = record;
    const captureErrors = capture;
    fastify.addHook('onResponse', (request, reply, hookDone) => {
      recordHttp?.(request, reply);
      captureErrors?.(request, reply);
      hookDone();
    });
  }

  if (path !== false) {
    fastify.get(path, async (_request, reply) =>
      reply.header('content-type', collector.contentType).send(await collector.metrics()),
    );
  }
}

// What fastify-plugin would set, without the dependency: hooks apply to the parent's routes.
Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@infra/monitoring',
  [Symbol.for('plugin-meta')]: { name: '@infra/monitoring', fastify: '5.x' },
});

/**
 * Fastify plugin recording `http_request_duration_seconds` (whose `_count` counts the requests) per
 * method, route pattern and status class, and serving the collector at `GET /metrics`.
 */
export const metricsPlugin: FastifyPluginCallback<MetricsPluginOptions> = plugin;

export default metricsPlugin;

function routeOf(request: FastifyRequest, unmatched: string): string {
  // The router's pattern (`/users/:id`), never the raw URL: label cardinality stays bounded.
  const pattern = request.routeOptions.url;
  return pattern === undefined || pattern === '' || request.is404 ? unmatched : pattern;
}

function methodOf(request: FastifyRequest): string {
  return METHODS.has(request.method) ? request.method : 'OTHER';
}

/** Index into STATUS_CLASSES: 0 for 1xx … 4 for 5xx, 5 for anything else. */
function statusIndex(code: number): number {
  const index = Math.floor(code / 100) - 1;
  return index >= 0 && index < 5 ? index : 5;
}
