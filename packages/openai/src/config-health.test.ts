import { startFakeOpenAIServer, type FakeOpenAIServer } from '@infra/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFactory, createHealthCheck, createOpenAIClient, createOpenAIConfig } from './index.js';

const API_KEY = 'sk-config-test-0123456789abcdef';
let fake: FakeOpenAIServer;

beforeAll(async () => {
  fake = await startFakeOpenAIServer();
});
afterAll(async () => {
  await fake.close();
});

function configError(build: () => unknown) {
  try {
    build();
  } catch (error) {
    return error as { code: string; variable: string; message: string };
  }
  throw new Error('expected a config error');
}

describe('configFactory', () => {
  it('reads and validates the environment, with defaults', () => {
    const config = configFactory.fromEnv({
      OPENAI_API_KEY: API_KEY,
      OPENAI_BASE_URL: 'https://proxy.internal/v1/',
      OPENAI_ORG_ID: 'org-123',
      OPENAI_PROJECT_ID: 'proj_1',
      OPENAI_TIMEOUT_MS: '15000',
      OPENAI_MAX_RETRIES: '4',
    });
    expect({ ...config }).toEqual({
      apiKey: API_KEY,
      baseURL: 'https://proxy.internal/v1',
      organization: 'org-123',
      project: 'proj_1',
      timeout: 15000,
      maxRetries: 4,
    });
    expect(configFactory.fromEnv({ OPENAI_API_KEY: API_KEY })).toMatchObject({
      baseURL: undefined,
      timeout: 30000,
      maxRetries: 2,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('lets explicit values win over the environment', () => {
    const config = configFactory.fromEnv(
      { OPENAI_API_KEY: 'sk-from-env-0000', OPENAI_TIMEOUT_MS: '1000' },
      { apiKey: API_KEY, timeout: 2000 },
    );
    expect(config).toMatchObject({ apiKey: API_KEY, timeout: 2000 });
    expect(configFactory.create({ apiKey: API_KEY })).toMatchObject({ timeout: 30000 });
  });

  it.each([
    [{}, 'OPENAI_API_KEY', /required/],
    [{ OPENAI_API_KEY: 'short' }, 'OPENAI_API_KEY', /malformed/],
    [{ OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: 'not a url' }, 'OPENAI_BASE_URL', /"not a url"/],
    [{ OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: 'ftp://x/v1' }, 'OPENAI_BASE_URL', /http\(s\)/],
    [{ OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: 'https://user:pw@x/v1' }, 'OPENAI_BASE_URL', /credentials/],
    [{ OPENAI_API_KEY: API_KEY, OPENAI_TIMEOUT_MS: '30s' }, 'OPENAI_TIMEOUT_MS', /"30s"/],
    [{ OPENAI_API_KEY: API_KEY, OPENAI_TIMEOUT_MS: '0' }, 'OPENAI_TIMEOUT_MS', /integer from 1/],
    [{ OPENAI_API_KEY: API_KEY, OPENAI_MAX_RETRIES: '11' }, 'OPENAI_MAX_RETRIES', /from 0 to 10/],
  ])('rejects %j naming %s', (env, variable, message) => {
    const error = configError(() => configFactory.fromEnv(env));
    expect(error).toMatchObject({ code: 'INVALID_CONFIG', variable });
    expect(error.message).toContain(variable);
    expect(error.message).toMatch(message);
  });

  it('names the option, not the variable, for a bad explicit value', () => {
    expect(configError(() => createOpenAIConfig({ apiKey: API_KEY, timeout: -5 }))).toMatchObject({
      variable: 'timeout',
    });
    expect(configError(() => configFactory.create({ apiKey: 42 }))).toMatchObject({ variable: 'apiKey' });
  });

  it('feeds createOpenAIClient as it is', async () => {
    const config = configFactory.fromEnv({
      OPENAI_API_KEY: API_KEY,
      OPENAI_BASE_URL: fake.baseURL,
      OPENAI_ORG_ID: 'org-9',
    });
    const client = createOpenAIClient(config);
    await client.models.list();
    expect(fake.requests.at(-1)?.headers['openai-organization']).toBe('org-9');
    expect(client.timeoutMs).toBe(30000);
  });
});

describe('healthCheck', () => {
  it('passes with the probe latency, caches the result and shares one probe between concurrent calls', async () => {
    fake.reset();
    // A slow machine must not turn the pass into a warn: the latency threshold is out of reach.
    const client = createOpenAIClient({
      apiKey: API_KEY,
      baseURL: fake.baseURL,
      health: { cacheTtlMs: 60_000, degradedLatencyMs: 600_000 },
    });
    const [a, b] = await Promise.all([client.healthCheck(), client.healthCheck()]);
    expect(a).toBe(b);
    expect(a).toMatchObject({ status: 'pass', componentType: 'system', observedUnit: 'ms' });
    expect(a.observedValue).toBeGreaterThanOrEqual(0);
    expect(Date.parse(a.time)).not.toBeNaN();
    await client.healthCheck();
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models']);
  });

  it('fails on an outage without retrying, warns when slow or rate limited or when a breaker is open', async () => {
    fake.reset();
    const client = createOpenAIClient({
      apiKey: API_KEY,
      baseURL: fake.baseURL,
      maxRetries: 3,
      health: { cacheTtlMs: 0, degradedLatencyMs: 100 },
    });
    fake.enqueue({ status: 503 });
    expect(await client.healthCheck()).toMatchObject({
      status: 'fail',
      output: expect.stringMatching(/^UPSTREAM: .*503/),
    });
    expect(fake.requests).toHaveLength(1);
    fake.enqueue({ delayMs: 250 });
    expect(await client.healthCheck()).toMatchObject({ status: 'warn', output: expect.stringContaining('probe took') });
    fake.enqueue({ status: 429 });
    expect(await client.healthCheck()).toMatchObject({
      status: 'warn',
      output: expect.stringMatching(/^RATE_LIMITED/),
    });
    client.breaker('gpt-4o').open();
    expect(await client.healthCheck()).toMatchObject({
      status: 'warn',
      output: 'circuit not closed for gpt-4o (open)',
    });
  });

  it('works on any target with models.list and validates its options', async () => {
    let calls = 0;
    const check = createHealthCheck({ models: { list: () => Promise.resolve(++calls) } }, { cacheTtlMs: 0 });
    expect((await check()).status).toBe('pass');
    expect((await check()).status).toBe('pass');
    expect(calls).toBe(2);
    expect(() => createHealthCheck({ models: { list: () => Promise.resolve() } }, { timeoutMs: 0 })).toThrow(
      /health\.timeoutMs/,
    );
  });
});
