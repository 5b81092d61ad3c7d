import type { AddressInfo } from 'node:net';
import { buildApp, type DemoApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { httpClient, type JsonResponse } from './http-client.js';

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
 * service's defaults are made to fail fast in production.
 */
export async function startDemo(env: Record<string, string> = {}): Promise<RunningDemo> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    HEALTH_INTERVAL_MS: '600000',
    DATABASE_ACQUIRE_TIMEOUT_MS: '60000',
    SHUTDOWN_DEADLINE_MS: '30000',
    ...env,
  });
  const demo = await buildApp({ ...config, port: 0 }, { exit: false });
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
