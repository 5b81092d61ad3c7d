import type { AddressInfo } from 'node:net';
import { buildApp, type BuildOptions, type DemoApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { httpClient, type JsonResponse } from './http-client.js';

/** The token that shows health details in tests. */
export const HEALTH_TOKEN = 'test-health-token';

export interface RunningDemo {
  demo: DemoApp;
  baseUrl: string;
  http: (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<JsonResponse>;
}

/**
 * Builds the service from environment variables (embedded defaults for anything not given) and
 * listens on a free port of 127.0.0.1, as `main.ts` does.
 *
 * The tests run on busy machines: a unit of work waits up to a minute for a connection (PGlite has
 * one, and a test sends 100 completes at once) and the shutdown gets half a minute, where the
 * service's defaults are made to fail fast in production. The tests send 100 completes at once
 * on purpose, so load shedding is set far above that; its own test sets a low bound. Readiness
 * delay 0: each test file closes instances, and the delay has a test of its own.
 */
export async function startDemo(
  env: Record<string, string> = {},
  options: Omit<BuildOptions, 'exit'> = {},
): Promise<RunningDemo> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    HEALTH_INTERVAL_MS: '600000',
    DATABASE_ACQUIRE_TIMEOUT_MS: '60000',
    SHUTDOWN_DEADLINE_MS: '30000',
    SHUTDOWN_READINESS_DELAY_MS: '0',
    LOAD_SHED_MAX_POOL_WAITING: '100000',
    LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS: '0',
    HEALTH_TOKEN: HEALTH_TOKEN,
    ...env,
  });
  const demo = await buildApp({ ...config, port: 0 }, { ...options, exit: false });
  try {
    await demo.app.listen({ port: 0, host: '127.0.0.1' });
  } catch (error) {
    await demo.close();
    throw error;
  }
  const { port } = demo.app.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return { demo, baseUrl, http: httpClient(baseUrl) };
}
