import { randomUUID } from 'node:crypto';
import { describeValue as describe, type Logger } from '@infra/core';
import { MonitoringError } from './errors.js';
import { logTransport, type ErrorEvent, type ErrorLevel, type ErrorTransport } from './error-event.js';
import { fingerprintOf, hashFingerprint } from './fingerprint.js';
import { createScrubber, type ScrubOptions, type Scrubber } from './scrub.js';
import { FingerprintRateLimiter } from './fingerprint-rate-limiter.js';
import { integer, nonEmptyString, optionalFn, optionalLogger, optionalObject, positive } from './validate.js';

/** How a domain's errors are treated. */
export interface DomainOptions {
  /** Return false to ignore an error (e.g. expected "not found" errors). @default capture all */
  shouldCapture?: (error: Error & { code?: unknown }, options: CaptureOptions) => boolean;
  /** Tags added to every event of the domain. @default {} */
  tags?: Record<string, string>;
  /** Custom grouping: the parts the fingerprint is hashed from. @default name, code, normalised message, top frame */
  fingerprint?: (error: Error, options: CaptureOptions) => string[];
  /** Level of the domain's events. @default 'error' */
  level?: ErrorLevel;
}

/** What {@link ErrorMonitor.captureError} records alongside the error. */
export interface CaptureOptions {
  domain?: string;
  user?: Record<string, unknown>;
  /** Free-form context (scrubbed). */
  context?: Record<string, unknown>;
  tags?: Record<string, string>;
  level?: ErrorLevel;
  /** Overrides grouping for this event. */
  fingerprint?: string[];
}

/** Outcome of one capture. */
export type CaptureResult =
  | { captured: true; id: string; fingerprint: string; event: ErrorEvent }
  | { captured: false; reason: 'filtered' | 'rate_limited'; fingerprint?: string };

/** Options of an {@link ErrorMonitor}. */
export interface ErrorMonitorOptions {
  /** Where events go. @default [logTransport({ logger })] when a logger is given, else none */
  transports?: ErrorTransport[];
  /**
   * Receives the monitor's own warnings (a transport failing, a filter throwing), e.g. a pino
   * logger. @default silent
   */
  logger?: Logger;
  /**
   * Per-fingerprint budget: at most `maxPerWindow` events of one fingerprint are reported per
   * `windowMs`; the rest are counted and reported as `suppressed` on the next one. `false` disables it.
   * @default { windowMs: 60000, maxPerWindow: 10 }
   */
  rateLimit?: { windowMs?: number; maxPerWindow?: number } | false;
  /** Fingerprints tracked for rate limiting (least recently seen dropped first). @default 10000 */
  maxFingerprints?: number;
  /** Extra scrubbing rules on top of the defaults. @default {} */
  scrub?: ScrubOptions;
  /** Tags added to every event. @default {} */
  tags?: Record<string, string>;
  /** @default process.env.NODE_ENV */
  environment?: string;
  /** @default undefined */
  release?: string;
  /** Clock in milliseconds, for tests. @default Date.now */
  now?: () => number;
}

/**
 * Captures errors with context, groups them by fingerprint, rate-limits each group, scrubs
 * secrets and hands the events to its transports. Never throws on the error path: a failing
 * transport or filter is reported as a warning.
 */
export class ErrorMonitor {
  private readonly domains = new Map<string, DomainOptions>();
  private readonly transports: ErrorTransport[];
  private readonly pending = new Set<Promise<void>>();
  private readonly warned = new Set<string>();
  private readonly logger: Logger | undefined;
  private readonly limiter: FingerprintRateLimiter | undefined;
  private readonly scrubber: Scrubber;
  private readonly tags: Record<string, string>;
  private readonly environment: string | undefined;
  private readonly release: string | undefined;
  private readonly counts = { captured: 0, filtered: 0, rateLimited: 0, transportErrors: 0 };

  constructor(options: ErrorMonitorOptions = {}) {
    const o = optionalObject('options', options) as ErrorMonitorOptions;
    this.logger = optionalLogger('logger', o.logger);
    if (o.transports !== undefined && !Array.isArray(o.transports)) {
      throw new MonitoringError(
        'INVALID_OPTION',
        `Invalid option "transports": expected an array, got ${describe(o.transports)}`,
      );
    }
    this.transports = [];
    for (const transport of o.transports ?? (this.logger ? [logTransport({ logger: this.logger })] : []))
      this.addTransport(transport);
    const now = optionalFn<() => number>('now', o.now) ?? Date.now;
    if (o.rateLimit !== false) {
      const rate = optionalObject('rateLimit', o.rateLimit);
      this.limiter = new FingerprintRateLimiter(
        rate.windowMs === undefined ? 60_000 : positive('rateLimit.windowMs', rate.windowMs),
        rate.maxPerWindow === undefined ? 10 : integer('rateLimit.maxPerWindow', rate.maxPerWindow),
        o.maxFingerprints === undefined ? 10_000 : integer('maxFingerprints', o.maxFingerprints),
        now,
      );
    }
    this.scrubber = createScrubber(o.scrub);
    this.tags = stringRecord('tags', o.tags);
    this.environment = o.environment ?? process.env.NODE_ENV;
    this.release = o.release;
  }

  /**
   * Registers how errors of a domain are captured.
   * @throws MonitoringError `DUPLICATE_DOMAIN` when the domain is already registered.
   */
  registerDomain(name: string, options: DomainOptions = {}): this {
    nonEmptyString('name', name);
    if (this.domains.has(name))
      throw new MonitoringError('DUPLICATE_DOMAIN', `Error domain "${name}" is already registered`);
    const o = optionalObject('options', options) as DomainOptions;
    optionalFn('shouldCapture', o.shouldCapture);
    optionalFn('fingerprint', o.fingerprint);
    const domain: DomainOptions = { ...o, tags: stringRecord('tags', o.tags) };
    this.domains.set(name, domain);
    return this;
  }

  unregisterDomain(name: string): boolean {
    return this.domains.delete(name);
  }

  /** Adds a transport (e.g. Sentry) to the monitor. */
  addTransport(transport: ErrorTransport): this {
    if (typeof transport !== 'object' || typeof (transport as Partial<ErrorTransport>).send !== 'function') {
      throw new MonitoringError(
        'INVALID_OPTION',
        `Invalid transport: expected { name, send(event) }, got ${describe(transport)}`,
      );
    }
    this.transports.push(transport);
    return this;
  }

  /** Whether a transport with this name is attached. */
  hasTransport(name: string): boolean {
    return this.transports.some((t) => t.name === name);
  }

  /** Reports an error (any thrown value) with its context; returns what happened to it. */
  captureError(error: unknown, options: CaptureOptions = {}): CaptureResult {
    const o = optionalObject('options', options) as CaptureOptions;
    const err = toError(error);
    const domain = o.domain === undefined ? undefined : this.domains.get(o.domain);
    if (domain?.shouldCapture && !this.allowed(domain.shouldCapture, err, o)) {
      this.counts.filtered++;
      return { captured: false, reason: 'filtered' };
    }
    const parts = (o.fingerprint ?? this.customFingerprint(domain, err, o) ?? fingerprintOf(err, o.domain)).map((p) =>
      this.scrubber.scrubString(String(p as unknown)),
    );
    const fingerprint = hashFingerprint(parts);
    const suppressed = this.limiter ? this.limiter.admit(fingerprint) : 0;
    if (suppressed === false) {
      this.counts.rateLimited++;
      return { captured: false, reason: 'rate_limited', fingerprint };
    }
    const event = this.buildEvent(err, o, domain, fingerprint, parts, suppressed);
    this.counts.captured++;
    this.dispatch(event);
    return { captured: true, id: event.id, fingerprint, event };
  }

  /** Hands an already built event to the transports (used to forward health-check failures). */
  dispatch(event: ErrorEvent, transports: readonly ErrorTransport[] = this.transports): void {
    for (const transport of transports) {
      try {
        const sent = transport.send(event);
        if (sent instanceof Promise) {
          const tracked: Promise<void> = sent
            .catch((error: unknown) => {
              this.transportFailed(transport, error);
            })
            .finally(() => this.pending.delete(tracked));
          this.pending.add(tracked);
        }
      } catch (error) {
        this.transportFailed(transport, error);
      }
    }
  }

  /** Scrubs a value with this monitor's rules. */
  scrub(value: unknown): unknown {
    return this.scrubber.scrub(value);
  }

  /** Waits for pending sends and the transports' own buffers; false when `timeoutMs` ran out. */
  async flush(timeoutMs = 2000): Promise<boolean> {
    positive('timeoutMs', timeoutMs);
    const deadline = Date.now() + timeoutMs;
    const sends = await withTimeout(
      Promise.all([...this.pending]).then(() => true),
      timeoutMs,
    );
    const flushed = await Promise.all(
      this.transports.map((t) =>
        t.flush
          ? withTimeout(t.flush(Math.max(1, deadline - Date.now())), deadline - Date.now())
          : Promise.resolve(true),
      ),
    );
    return sends && flushed.every(Boolean);
  }

  /**
   * Flushes, then closes every transport, within `timeoutMs` (ms) for each step. A bare number is
   * accepted as `timeoutMs`.
   */
  async close(options: { timeoutMs?: number } | number = {}): Promise<void> {
    const given = typeof options === 'number' ? options : options.timeoutMs;
    const timeoutMs = given === undefined ? 2000 : positive('timeoutMs', given);
    await this.flush(timeoutMs);
    await Promise.all(this.transports.map(async (t) => t.close?.(timeoutMs)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** Counters since creation. */
  stats(): { captured: number; filtered: number; rateLimited: number; transportErrors: number } {
    return { ...this.counts };
  }

  private allowed(
    shouldCapture: NonNullable<DomainOptions['shouldCapture']>,
    error: Error,
    options: CaptureOptions,
  ): boolean {
    try {
      // JavaScript callers may return anything: only an explicit false filters.
      return (shouldCapture(error, options) as unknown) !== false;
    } catch (filterError) {
      this.warnOnce(
        `filter:${options.domain ?? ''}`,
        { domain: options.domain, error: filterError },
        'shouldCapture threw; capturing the error anyway',
      );
      return true;
    }
  }

  private customFingerprint(
    domain: DomainOptions | undefined,
    error: Error,
    options: CaptureOptions,
  ): string[] | undefined {
    if (!domain?.fingerprint) return undefined;
    try {
      const parts = domain.fingerprint(error, options);
      return Array.isArray(parts) && parts.length > 0 ? parts : undefined;
    } catch (fingerprintError) {
      this.warnOnce(
        `fingerprint:${options.domain ?? ''}`,
        { error: fingerprintError },
        'fingerprint threw; using the default grouping',
      );
      return undefined;
    }
  }

  private buildEvent(
    err: Error,
    o: CaptureOptions,
    domain: DomainOptions | undefined,
    fingerprint: string,
    fingerprintParts: string[],
    suppressed: number,
  ): ErrorEvent {
    const scrubbed = this.scrubber.scrub(err) as Record<string, unknown>;
    const code = (err as { code?: unknown }).code;
    const error: ErrorEvent['error'] = { name: err.name, message: String(scrubbed.message) };
    if (typeof code === 'string' || typeof code === 'number') error.code = String(code);
    if (typeof scrubbed.stack === 'string') error.stack = scrubbed.stack;
    const exception = Object.assign(
      new Error(error.message),
      { name: error.name },
      error.code === undefined ? {} : { code: error.code },
    );
    exception.stack = error.stack ?? `${error.name}: ${error.message}`;
    const tags = { ...this.tags, ...domain?.tags, ...stringRecord('tags', o.tags) };
    if (o.domain !== undefined) tags.domain = o.domain;
    const event: ErrorEvent = {
      id: randomUUID().replaceAll('-', ''),
      timestamp: new Date().toISOString(),
      level: o.level ?? domain?.level ?? 'error',
      fingerprint,
      fingerprintParts,
      error,
      exception,
      tags: this.scrubber.scrub(tags) as Record<string, string>,
      context: (this.scrubber.scrub(o.context ?? {}) ?? {}) as Record<string, unknown>,
      suppressed,
    };
    if (o.domain !== undefined) event.domain = o.domain;
    if (o.user !== undefined) event.user = this.scrubber.scrub(o.user) as Record<string, unknown>;
    if (this.environment !== undefined) event.environment = this.environment;
    if (this.release !== undefined) event.release = this.release;
    return event;
  }

  private transportFailed(transport: ErrorTransport, error: unknown): void {
    this.counts.transportErrors++;
    this.warnOnce(`transport:${transport.name}`, { transport: transport.name, error }, 'error transport failed');
  }

  private warnOnce(key: string, object: object, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    if (this.logger) this.logger.warn(object, message);
    else process.emitWarning(`@infra/monitoring: ${message}`, { code: 'INFRA_MONITORING', detail: describe(object) });
  }
}

function toError(value: unknown): Error {
  if (value instanceof Error) return value;
  if (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string') {
    const like = value as { message: string; name?: unknown; code?: unknown; stack?: unknown };
    const error = new Error(like.message);
    if (typeof like.name === 'string') error.name = like.name;
    if (typeof like.stack === 'string') error.stack = like.stack;
    if (like.code !== undefined) Object.assign(error, { code: like.code });
    return error;
  }
  const error = new Error(typeof value === 'string' ? value : `Non-error value thrown: ${describe(value)}`);
  error.name = 'NonError';
  return error;
}

function stringRecord(option: string, value: unknown): Record<string, string> {
  const record = optionalObject(option, value);
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(record)) {
    if (item === undefined) continue;
    out[key] = typeof item === 'string' ? item : JSON.stringify(item);
  }
  return out;
}

function withTimeout(promise: Promise<boolean>, ms: number): Promise<boolean> {
  if (ms <= 0) return Promise.resolve(false);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<boolean>((resolve) => {
    timer = setTimeout(resolve, ms, false);
    timer.unref();
  });
  return Promise.race([promise, timedOut]).finally(() => {
    clearTimeout(timer);
  });
}
