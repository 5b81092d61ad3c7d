import type { ErrorEvent, ErrorTransport } from '../error-event.js';
import { MissingPeerError, MonitoringError } from '../errors.js';
import { nonEmptyString, optionalObject } from '../validate.js';

/** The part of a Sentry scope the transport uses. */
export interface SentryScopeLike {
  setLevel(level: 'fatal' | 'error' | 'warning' | 'info'): unknown;
  setTags(tags: Record<string, string>): unknown;
  setUser(user: Record<string, unknown> | null): unknown;
  setContext(name: string, context: Record<string, unknown> | null): unknown;
  setFingerprint(fingerprint: string[]): unknown;
  setExtra(key: string, value: unknown): unknown;
}

/** The part of `@sentry/node` (v8 and later) the transport uses; the module itself fits. */
export interface SentryLike {
  withScope(callback: (scope: SentryScopeLike) => void): unknown;
  captureException(exception: unknown, hint?: { event_id?: string }): string;
  flush(timeout?: number): PromiseLike<boolean>;
  close?(timeout?: number): PromiseLike<boolean>;
  init?(options: Record<string, unknown>): unknown;
  isInitialized?(): boolean;
  getClient?(): unknown;
}

/** Options of {@link sentryTransport}. */
export interface SentryTransportOptions {
  /**
   * The Sentry SDK to report through (e.g. `import * as Sentry from '@sentry/node'`).
   * @default `@sentry/node`, loaded lazily on first use (MISSING_PEER when it is not installed)
   */
  sentry?: SentryLike;
  /**
   * DSN to initialise Sentry with when nobody has: the transport then owns that client and closes
   * it on `close()`. @default undefined (use the application's own `Sentry.init`)
   */
  dsn?: string;
  /** Extra `Sentry.init` options used with `dsn` (environment, release, …). @default {} */
  init?: Record<string, unknown>;
}

/** Loads `@sentry/node`, failing with MISSING_PEER when it is not installed. */
export async function loadSentry(): Promise<SentryLike> {
  try {
    // Checked by the compiler: the real module must fit SentryLike.
    return await import('@sentry/node');
  } catch (error) {
    throw new MissingPeerError('@sentry/node', 'Reporting to Sentry', error);
  }
}

/** Whether the SDK has a client to send with. */
export function isSentryInitialized(sentry: SentryLike): boolean {
  if (typeof sentry.isInitialized === 'function') return sentry.isInitialized();
  return typeof sentry.getClient === 'function' ? sentry.getClient() !== undefined : true;
}

/** Sentry transport with its SDK promise exposed, for callers that check availability up front. */
export interface SentryTransport extends ErrorTransport {
  /** Resolves to the SDK once loaded (and initialised when `dsn` was given). */
  ready(): Promise<SentryLike>;
}

/**
 * Reports error events to Sentry: scrubbed message and stack, tags, user, context, fingerprint
 * and level, with the event's id as Sentry's event id.
 */
export function sentryTransport(options: SentryTransportOptions = {}): SentryTransport {
  const o = optionalObject('options', options) as SentryTransportOptions;
  const dsn = o.dsn === undefined ? undefined : nonEmptyString('dsn', o.dsn);
  const initOptions = optionalObject('init', o.init);
  if (o.sentry !== undefined && typeof (o.sentry as Partial<SentryLike> | null)?.captureException !== 'function') {
    throw new MonitoringError(
      'INVALID_OPTION',
      'Invalid option "sentry": expected the @sentry/node module or a compatible SDK',
    );
  }
  let owned = false;
  let loading: Promise<SentryLike> | undefined;
  const ready = (): Promise<SentryLike> => {
    loading ??= (async () => {
      const sentry = o.sentry ?? (await loadSentry());
      if (dsn !== undefined && !isSentryInitialized(sentry)) {
        if (typeof sentry.init !== 'function')
          throw new MonitoringError('INVALID_OPTION', 'The Sentry SDK given has no init() to use "dsn" with');
        sentry.init({ ...initOptions, dsn });
        owned = true;
      }
      return sentry;
    })();
    return loading;
  };

  return {
    name: 'sentry',
    ready,
    async send(event: ErrorEvent) {
      const sentry = await ready();
      if (!isSentryInitialized(sentry)) {
        throw new MonitoringError(
          'TRANSPORT_UNAVAILABLE',
          'Sentry is not initialised: call Sentry.init({ dsn }) or pass `dsn` to sentryTransport()',
        );
      }
      sentry.withScope((scope) => {
        scope.setLevel(event.level);
        scope.setTags(event.tags);
        if (event.user) scope.setUser(event.user);
        scope.setContext('context', event.context);
        scope.setFingerprint(event.fingerprintParts);
        if (event.suppressed > 0) scope.setExtra('suppressed', event.suppressed);
        sentry.captureException(event.exception, { event_id: event.id });
      });
    },
    async flush(timeoutMs: number) {
      if (loading === undefined) return true;
      const sentry = await loading.catch(() => undefined);
      return sentry ? await sentry.flush(timeoutMs) : true;
    },
    async close(timeoutMs: number) {
      if (!owned || loading === undefined) return;
      const sentry = await loading;
      await sentry.close?.(timeoutMs);
    },
  };
}
