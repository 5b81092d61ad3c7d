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
 */
export async function startDemo(env: Record<string, string> = {}): Promise<RunningDemo> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    HEALTH_INTERVAL_MS: '600000',
    SHUTDOWN_DEADLINE_MS: '5000',
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
