import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { isDemoError } from './errors.js';

function failure(env: Record<string, string>): { variable: string; message: string } {
  try {
    loadConfig(env);
  } catch (error) {
    if (isDemoError(error, 'INVALID_CONFIG'))
      return { variable: (error as unknown as { variable: string }).variable, message: error.message };
    throw error;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('runs on embedded defaults with no environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      production: false,
      trustProxy: false,
      database: { url: undefined, schema: undefined, poolSize: 10, acquireTimeoutMs: 3000, poolMin: 10 },
      loadShedding: { maxPoolWaiting: 100, maxEventLoopDelayMs: 1000 },
      // Load balancers get time to see the failing readiness probe before the listener closes.
      shutdown: { readinessDelayMs: 5000 },
      redis: { url: undefined, keyPrefix: 'demo:' },
      kafkaBrokers: undefined,
      rabbitMqUrl: undefined,
      natsServers: undefined,
      messaging: 'memory',
      messagingPrefix: '',
      openai: undefined,
      cacheEnabled: true,
      seedData: true,
      rateLimit: { limit: 10, windowMs: 60_000 },
    });
  });

  it('switches each part on from its variable', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://app:secret@db:5432/app',
      DATABASE_SCHEMA: 'challenges',
      DATABASE_ACQUIRE_TIMEOUT_MS: '250',
      REDIS_URL: 'redis://cache:6379',
      KAFKA_BROKERS: 'k1:9092, k2:9092',
      OPENAI_API_KEY: 'sk-test-0123456789',
      OPENAI_MODEL: 'gpt-4o',
      CACHE_ENABLED: 'false',
      CORS_ORIGINS: 'https://app.example.com,https://admin.example.com',
      TRUST_PROXY: '10.0.0.0/8, 127.0.0.1',
      DATABASE_POOL_SIZE: '20',
      DATABASE_POOL_MIN: '5',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      production: true,
      database: {
        url: 'postgres://app:secret@db:5432/app',
        schema: 'challenges',
        acquireTimeoutMs: 250,
        poolSize: 20,
        poolMin: 5,
      },
      redis: { url: 'redis://cache:6379' },
      kafkaBrokers: ['k1:9092', 'k2:9092'],
      messaging: 'kafka',
      openai: { apiKey: 'sk-test-0123456789', model: 'gpt-4o', baseURL: undefined },
      cacheEnabled: false,
      corsOrigins: ['https://app.example.com', 'https://admin.example.com'],
      trustProxy: ['10.0.0.0/8', '127.0.0.1'],
      loadShedding: { maxPoolWaiting: 200 },
    });
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
  });

  it('puts the bus on the transport MESSAGING names, else on the first one configured', () => {
    const brokers = { RABBITMQ_URL: 'amqp://guest:guest@mq:5672', NATS_SERVERS: 'nats://n1:4222,n2:4222' };
    expect(loadConfig(brokers)).toMatchObject({
      messaging: 'rabbitmq',
      rabbitMqUrl: 'amqp://guest:guest@mq:5672',
      natsServers: ['nats://n1:4222', 'n2:4222'],
    });
    expect(loadConfig({ ...brokers, MESSAGING: 'NATS' }).messaging).toBe('nats');
    expect(loadConfig({ ...brokers, MESSAGING: 'memory' }).messaging).toBe('memory');
    expect(loadConfig({ REDIS_URL: 'redis://cache', NATS_SERVERS: 'n1:4222' }).messaging).toBe('nats');
    // A database alone never moves the bus: MESSAGING=postgres does.
    const database = { DATABASE_URL: 'postgres://db/app', REDIS_URL: 'redis://cache' };
    expect(loadConfig(database).messaging).toBe('redis');
    expect(loadConfig({ ...database, MESSAGING: 'postgres' }).messaging).toBe('postgres');
    expect(failure({ MESSAGING: 'nats' }).message).toMatch(/nats needs NATS_SERVERS/);
    // RABBITMQ_URL carries a password: an error about it never shows the value.
    expect(failure({ RABBITMQ_URL: 'http://guest:hunter2@mq' }).message).not.toContain('hunter2');
  });

  it('accepts an OpenAI-compatible server without a key', () => {
    const config = loadConfig({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1/' });
    expect(config.openai?.baseURL).toBe('http://127.0.0.1:11434/v1');
    expect(config.openai?.model).toBe('gpt-4o-mini');
  });

  it.each([
    ['PORT', 'eighty', 'PORT'],
    ['PORT', '70000', 'PORT'],
    ['HOST', 'not a host', 'HOST'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL'],
    ['DATABASE_SCHEMA', 'Drop Table', 'DATABASE_SCHEMA'],
    ['DATABASE_POOL_SIZE', '0', 'DATABASE_POOL_SIZE'],
    ['DATABASE_ACQUIRE_TIMEOUT_MS', '3s', 'DATABASE_ACQUIRE_TIMEOUT_MS'],
    ['KAFKA_BROKERS', 'k1:9092,,k2', 'KAFKA_BROKERS'],
    ['NATS_SERVERS', 'nats1:4222, nats-two', 'NATS_SERVERS'],
    ['RABBITMQ_URL', 'http://guest:guest@mq', 'RABBITMQ_URL'],
    ['MESSAGING', 'carrier-pigeon', 'MESSAGING'],
    ['MESSAGING_PREFIX', 'a prefix with spaces', 'MESSAGING_PREFIX'],
    ['MESSAGING', 'rabbitmq', 'MESSAGING'],
    ['MESSAGING', 'postgres', 'MESSAGING'],
    ['CACHE_ENABLED', 'maybe', 'CACHE_ENABLED'],
    ['RATE_LIMIT_MAX', '-1', 'RATE_LIMIT_MAX'],
    ['CORS_ORIGINS', 'app.example.com', 'CORS_ORIGINS'],
    ['TRUST_PROXY', 'everyone', 'TRUST_PROXY'],
    ['DATABASE_POOL_MIN', '11', 'DATABASE_POOL_MIN'],
    ['LOAD_SHED_MAX_POOL_WAITING', 'lots', 'LOAD_SHED_MAX_POOL_WAITING'],
    ['OPENAI_TIMEOUT_MS', 'soon', 'OPENAI_TIMEOUT_MS'],
  ])('fails fast on %s=%j, naming the variable', (name, value, variable) => {
    const { variable: named, message } = failure({ OPENAI_API_KEY: 'sk-test-0123456789', [name]: value });
    expect(named).toBe(variable);
    expect(message).toContain(variable);
  });

  it('never prints a secret it refuses', () => {
    const db = failure({ DATABASE_URL: 'mysql://root:hunter2@db/app' });
    expect(db.variable).toBe('DATABASE_URL');
    expect(db.message).not.toContain('hunter2');
    const redis = failure({ REDIS_URL: 'http://:hunter2@cache' });
    expect(redis.variable).toBe('REDIS_URL');
    expect(redis.message).not.toContain('hunter2');
    const key = failure({ OPENAI_API_KEY: 'sk has spaces hunter2' });
    expect(key.variable).toBe('OPENAI_API_KEY');
    expect(key.message).not.toContain('hunter2');
  });

  it('keeps the API key out of logs and JSON', () => {
    const config = loadConfig({ OPENAI_API_KEY: 'sk-test-0123456789' });
    expect(JSON.stringify(config)).not.toContain('sk-test-0123456789');
  });
});
