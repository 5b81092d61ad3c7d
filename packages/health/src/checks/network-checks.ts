import { connect } from 'node:net';
import { InvalidOptionError, check } from '../errors.js';
import type { CheckContext, CheckFunction, CheckOutcome } from '../types.js';

export interface TcpCheckOptions {
  host: string;
  port: number;
}

/**
 * A check that a TCP port accepts connections (a broker, a service without a health endpoint);
 * observes the connect time in ms. The check's timeout aborts the attempt.
 */
export function tcpCheck(options: TcpCheckOptions): CheckFunction {
  check.plainObject('options', options);
  const host = check.nonEmptyString('host', options.host);
  const port = check.integer('port', options.port, 1);
  if (port > 65_535) throw new InvalidOptionError('port', port, 'an integer from 1 to 65535');
  return ({ signal }: CheckContext) =>
    new Promise<CheckOutcome>((resolve, reject) => {
      const started = performance.now();
      const socket = connect({ host, port, signal });
      socket.once('connect', () => {
        const ms = Math.round((performance.now() - started) * 10) / 10;
        socket.destroy();
        resolve({ status: 'pass', observedValue: ms, observedUnit: 'ms' });
      });
      socket.once('error', (error) => {
        socket.destroy();
        reject(new Error(`Cannot connect to ${host}:${port}: ${error.message}`, { cause: error }));
      });
    });
}

export interface HttpCheckOptions {
  /** URL to request (a dependency's own health endpoint). */
  url: string;
  /** @default 'GET' */
  method?: string;
  /** @default {} */
  headers?: Record<string, string>;
  /**
   * Which statuses pass.
   * @default (status) => status >= 200 && status < 400
   */
  expectStatus?: (status: number) => boolean;
}

/** A check of an HTTP endpoint: passes on an expected status; observes the response time in ms. */
export function httpCheck(options: HttpCheckOptions): CheckFunction {
  check.plainObject('options', options);
  const url = check.nonEmptyString('url', options.url);
  try {
    const protocol = new URL(url).protocol;
    if (protocol !== 'http:' && protocol !== 'https:') throw new Error(protocol);
  } catch {
    throw new InvalidOptionError('url', url, 'an http:// or https:// URL');
  }
  const method = check.nonEmptyString('method', options.method ?? 'GET');
  const headers = check.plainObject('headers', options.headers ?? {}) as Record<string, string>;
  const expectStatus =
    check.optionalFn<(status: number) => boolean>('expectStatus', options.expectStatus) ??
    ((status: number) => status >= 200 && status < 400);
  return async ({ signal }: CheckContext): Promise<CheckOutcome> => {
    const started = performance.now();
    const response = await fetch(url, { method, headers, signal, redirect: 'manual' });
    // Read the body so that the connection is released.
    await response.arrayBuffer();
    const ms = Math.round((performance.now() - started) * 10) / 10;
    const ok = expectStatus(response.status);
    return {
      status: ok ? 'pass' : 'fail',
      ...(ok ? {} : { message: `${method} ${url} answered ${response.status}` }),
      observedValue: ms,
      observedUnit: 'ms',
    };
  };
}
