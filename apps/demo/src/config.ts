import { configFactory, isOpenAIClientError, type OpenAIConfig } from '@infra/openai';
import { InvalidConfigError } from './errors.js';

type Env = Record<string, string | undefined>;

/** The transports the message bus can run on. */
export const MESSAGING_TRANSPORTS = ['memory', 'redis', 'kafka', 'rabbitmq', 'nats', 'postgres'] as const;
export type MessagingTransport = (typeof MESSAGING_TRANSPORTS)[number];

/** Everything the service is configured with; built from the environment by {@link loadConfig}. */
export interface AppConfig {
  /** `PORT`: TCP port to listen on (0: any free port). @default 3000 */
  port: number;
  /** `HOST`: interface to listen on (`0.0.0.0` in a container). @default '127.0.0.1' */
  host: string;
  /**
   * `NODE_ENV === 'production'`: problem details also hide the messages of errors marked not to be
   * exposed (5xx details are generic in every environment). @default false
   */
  production: boolean;
  /** `LOG_LEVEL`: pino level, or `silent`. @default 'info' */
  logLevel: string;
  /**
   * `TRUST_PROXY`: which proxies' `X-Forwarded-For` to believe for the client address (rate limit
   * keys, logs): `true`, a hop count, or a comma-separated list of proxy addresses/CIDRs. @default false
   */
  trustProxy: boolean | number | string[];
  database: {
    /** `DATABASE_URL`: real Postgres through `pg`; unset: embedded PGlite. @default undefined */
    url: string | undefined;
    /**
     * `DATABASE_SCHEMA`: schema the service owns on that Postgres (created if missing). @default undefined (server's
     * search_path)
     */
    schema: string | undefined;
    /** `PGLITE_DATA_DIR`: where the embedded database keeps its files. @default undefined (in memory) */
    pgliteDataDir: string | undefined;
    /** `DATABASE_POOL_SIZE`: pg connections. @default 10 */
    poolSize: number;
    /**
     * `DATABASE_ACQUIRE_TIMEOUT_MS`: how long a query or unit of work waits for a connection
     * before failing with `ACQUIRE_TIMEOUT` (a 503). @default 3000
     */
    acquireTimeoutMs: number;
    /**
     * `DATABASE_POOL_MIN`: connections opened at start (Postgres only), so that the first burst of
     * traffic does not wait for connections to open. Idle ones close after 30 s. @default the pool size
     */
    poolMin: number;
  };
  loadShedding: {
    /**
     * `LOAD_SHED_MAX_POOL_WAITING`: requests are refused with 503 + Retry-After while more callers
     * than this wait for a database connection. @default max(100, 10 × DATABASE_POOL_SIZE)
     */
    maxPoolWaiting: number;
    /** `LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS`: the same for the mean event-loop delay; 0: off. @default 1000 */
    maxEventLoopDelayMs: number;
  };
  redis: {
    /**
     * `REDIS_URL`: Redis for the cache, the rate limiter and (without Kafka) the message bus. @default undefined
     * (memory)
     */
    url: string | undefined;
    /** `REDIS_KEY_PREFIX`: prefix of every key and stream the service writes. @default 'demo:' */
    keyPrefix: string;
  };
  /** `KAFKA_BROKERS`: comma-separated `host:port` list; the message bus uses Kafka. @default undefined */
  kafkaBrokers: string[] | undefined;
  /** `RABBITMQ_URL`: `amqp://user:password@host:5672`; the message bus uses RabbitMQ. @default undefined */
  rabbitMqUrl: string | undefined;
  /** `NATS_SERVERS`: comma-separated `host:port` of NATS with JetStream; the bus uses it. @default undefined */
  natsServers: string[] | undefined;
  /**
   * `MESSAGING`: the bus's transport, one of {@link MESSAGING_TRANSPORTS}; `postgres` needs
   * `DATABASE_URL` (a queue in the service's own database, no broker), the others their variable.
   * @default the first of kafka, rabbitmq, nats, redis whose variable is set, else memory
   */
  messaging: MessagingTransport;
  /**
   * `MESSAGING_PREFIX`: put before every exchange, queue or stream the bus creates on RabbitMQ or
   * NATS, so that several environments can share one server. @default ''
   */
  messagingPrefix: string;
  /** OpenAI settings, or undefined when neither `OPENAI_API_KEY` nor `OPENAI_BASE_URL` is set. */
  openai: (OpenAIConfig & { model: string }) | undefined;
  /** `CACHE_ENABLED`: `false` reads every challenge from the database. @default true */
  cacheEnabled: boolean;
  /** `SEED_DATA`: insert sample challenges and users into an empty database. @default true */
  seedData: boolean;
  /** `CORS_ORIGINS`: comma-separated allowlist of browser origins; unset: no CORS headers. @default undefined */
  corsOrigins: string[] | undefined;
  rateLimit: {
    /** `RATE_LIMIT_MAX`: generate requests per client per window. @default 10 */
    limit: number;
    /** `RATE_LIMIT_WINDOW_MS`: length of the window. @default 60_000 */
    windowMs: number;
  };
  health: {
    /** `HEALTH_INTERVAL_MS`: period of the background health-check run. @default 60_000 */
    intervalMs: number;
    /** `HEALTH_TOKEN`: when set, check details are shown only to requests carrying it. @default undefined */
    detailToken: string | undefined;
  };
  shutdown: {
    /**
     * `SHUTDOWN_READINESS_DELAY_MS`: time between failing readiness and closing the listener, so
     * that load balancers see the failing probe and stop sending requests first. @default 5000
     */
    readinessDelayMs: number;
    /** `SHUTDOWN_DEADLINE_MS`: budget of the whole shutdown. @default 10_000 */
    deadlineMs: number;
  };
  /** `OUTBOX_POLL_MS`: how often the outbox relay looks for messages it was not told about. @default 1000 */
  outboxPollMs: number;
}

const SECRET_VARIABLES = new Set(['DATABASE_URL', 'REDIS_URL', 'RABBITMQ_URL', 'OPENAI_API_KEY', 'HEALTH_TOKEN']);

function fail(variable: string, expected: string, value: string): never {
  // URLs can carry passwords and keys are secrets: only harmless variables show their value.
  const shown = SECRET_VARIABLES.has(variable) ? '(value not shown)' : `got ${JSON.stringify(value)}`;
  throw new InvalidConfigError(variable, `Invalid ${variable}: expected ${expected}, ${shown}`);
}

function text(env: Env, variable: string): string | undefined {
  const value = env[variable]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: Env, variable: string, fallback: number, min: number, max: number): number {
  const value = text(env, variable);
  if (value === undefined) return fallback;
  const parsed = /^\d+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max)
    fail(variable, `an integer from ${min} to ${max}`, value);
  return parsed;
}

function boolean(env: Env, variable: string, fallback: boolean): boolean {
  const value = text(env, variable)?.toLowerCase();
  if (value === undefined) return fallback;
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  return fail(variable, 'true or false', value);
}

function url(env: Env, variable: string, protocols: readonly string[]): string | undefined {
  const value = text(env, variable);
  if (value === undefined) return undefined;
  let protocol = '';
  try {
    protocol = new URL(value).protocol;
  } catch {
    fail(variable, `a ${protocols.join(' or ')}// URL`, value);
  }
  if (!protocols.includes(protocol)) fail(variable, `a ${protocols.join(' or ')}// URL`, value);
  return value;
}

function identifier(env: Env, variable: string): string | undefined {
  const value = text(env, variable);
  if (value !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(value)) {
    fail(variable, 'a lower-case SQL identifier (letters, digits, _; at most 63)', value);
  }
  return value;
}

function list(env: Env, variable: string, pattern: RegExp, expected: string): string[] | undefined {
  const value = text(env, variable);
  if (value === undefined) return undefined;
  const items = value.split(',').map((item) => item.trim());
  for (const item of items) if (!pattern.test(item)) fail(variable, expected, item);
  return items;
}

/** What each transport needs set, and the value it takes it from. */
const TRANSPORT_NEEDS: Record<Exclude<MessagingTransport, 'memory'>, string> = {
  kafka: 'KAFKA_BROKERS',
  rabbitmq: 'RABBITMQ_URL',
  nats: 'NATS_SERVERS',
  redis: 'REDIS_URL',
  postgres: 'DATABASE_URL',
};

function messaging(env: Env): MessagingTransport {
  const value = text(env, 'MESSAGING')?.toLowerCase();
  if (value === undefined) {
    // Postgres is never chosen on its own: a service with DATABASE_URL and Redis keeps its bus on Redis.
    const chosen = (['kafka', 'rabbitmq', 'nats', 'redis'] as const).find((t) => text(env, TRANSPORT_NEEDS[t]));
    return chosen ?? 'memory';
  }
  const transport = MESSAGING_TRANSPORTS.find((t) => t === value);
  if (transport === undefined) return fail('MESSAGING', MESSAGING_TRANSPORTS.join(', '), value);
  if (transport !== 'memory' && text(env, TRANSPORT_NEEDS[transport]) === undefined) {
    throw new InvalidConfigError(
      'MESSAGING',
      `Invalid MESSAGING: ${transport} needs ${TRANSPORT_NEEDS[transport]}, which is not set`,
    );
  }
  return transport;
}

function openai(env: Env): AppConfig['openai'] {
  const apiKey = text(env, 'OPENAI_API_KEY');
  const baseURL = text(env, 'OPENAI_BASE_URL');
  if (apiKey === undefined && baseURL === undefined) return undefined;
  try {
    // An OpenAI-compatible server of your own (OPENAI_BASE_URL) may not want a key at all.
    const config = configFactory.fromEnv(env, apiKey === undefined ? { apiKey: 'no-key-required' } : {});
    const model = text(env, 'OPENAI_MODEL') ?? 'gpt-4o-mini';
    const redacted = (): Record<string, unknown> => ({ ...config, apiKey: '[redacted]', model });
    // Spreading the sealed config loses its redacting toJSON/inspect: put them back on the copy.
    return Object.defineProperties(
      { ...config, model },
      { toJSON: { value: redacted }, [Symbol.for('nodejs.util.inspect.custom')]: { value: redacted } },
    );
  } catch (error) {
    if (isOpenAIClientError(error, 'INVALID_CONFIG')) {
      const variable = (error as { variable?: unknown }).variable;
      throw new InvalidConfigError(typeof variable === 'string' ? variable : 'OPENAI_API_KEY', error.message, {
        cause: error,
      });
    }
    throw error;
  }
}

function trustProxy(env: Env): AppConfig['trustProxy'] {
  const value = text(env, 'TRUST_PROXY');
  if (value === undefined) return false;
  const lower = value.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lower) && lower !== '1') return true;
  if (['0', 'false', 'no', 'off'].includes(lower)) return false;
  if (/^\d+$/.test(value)) return integer(env, 'TRUST_PROXY', 0, 0, 100);
  const items = value.split(',').map((item) => item.trim());
  for (const item of items) {
    if (!/^[\da-fA-F.:]+(\/\d{1,3})?$/.test(item)) {
      fail('TRUST_PROXY', 'true, false, a hop count or a comma-separated list of addresses/CIDRs', item);
    }
  }
  return items;
}

/**
 * Reads and validates the configuration from `env`. Every variable is optional: without any the
 * service runs on PGlite in memory, a memory cache and a memory bus. A bad value throws
 * `INVALID_CONFIG` naming the variable, and never shows the value of a secret.
 */
export function loadConfig(env: Env = process.env): AppConfig {
  if (typeof (env as unknown) !== 'object' || (env as unknown) === null) {
    throw new InvalidConfigError('env', 'loadConfig needs an object of environment variables');
  }
  const host = text(env, 'HOST') ?? '127.0.0.1';
  if (!/^[\w.:-]+$/.test(host)) fail('HOST', 'a host name or IP address', host);
  const logLevel = text(env, 'LOG_LEVEL') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    fail('LOG_LEVEL', 'fatal, error, warn, info, debug, trace or silent', logLevel);
  }
  const keyPrefix = text(env, 'REDIS_KEY_PREFIX') ?? 'demo:';
  if (!/^[\w.:-]{1,64}$/.test(keyPrefix)) fail('REDIS_KEY_PREFIX', 'letters, digits, _ . : - (at most 64)', keyPrefix);
  const poolSize = integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000);
  const messagingPrefix = text(env, 'MESSAGING_PREFIX') ?? '';
  // Stream names on NATS take nothing else.
  if (!/^[\w-]{0,48}$/.test(messagingPrefix)) {
    fail('MESSAGING_PREFIX', 'letters, digits, _ and - (at most 48)', messagingPrefix);
  }
  return {
    port: integer(env, 'PORT', 3000, 0, 65_535),
    host,
    production: text(env, 'NODE_ENV') === 'production',
    logLevel,
    trustProxy: trustProxy(env),
    loadShedding: {
      maxPoolWaiting: integer(env, 'LOAD_SHED_MAX_POOL_WAITING', Math.max(100, 10 * poolSize), 0, 1_000_000),
      maxEventLoopDelayMs: integer(env, 'LOAD_SHED_MAX_EVENT_LOOP_DELAY_MS', 1000, 0, 600_000),
    },
    database: {
      url: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']),
      schema: identifier(env, 'DATABASE_SCHEMA'),
      pgliteDataDir: text(env, 'PGLITE_DATA_DIR'),
      poolSize,
      acquireTimeoutMs: integer(env, 'DATABASE_ACQUIRE_TIMEOUT_MS', 3000, 1, 600_000),
      poolMin: integer(env, 'DATABASE_POOL_MIN', poolSize, 0, poolSize),
    },
    redis: { url: url(env, 'REDIS_URL', ['redis:', 'rediss:']), keyPrefix },
    kafkaBrokers: list(env, 'KAFKA_BROKERS', /^[\w.-]+:\d{1,5}$/, 'a comma-separated list of host:port'),
    rabbitMqUrl: url(env, 'RABBITMQ_URL', ['amqp:', 'amqps:']),
    natsServers: list(
      env,
      'NATS_SERVERS',
      /^(nats:\/\/|tls:\/\/)?[\w.-]+:\d{1,5}$/,
      'a comma-separated list of host:port (or nats://host:port)',
    ),
    messaging: messaging(env),
    messagingPrefix,
    openai: openai(env),
    cacheEnabled: boolean(env, 'CACHE_ENABLED', true),
    seedData: boolean(env, 'SEED_DATA', true),
    corsOrigins: list(
      env,
      'CORS_ORIGINS',
      /^(\*|https?:\/\/[^\s,/]+)$/,
      'a comma-separated list of origins (https://app.example.com)',
    ),
    rateLimit: {
      limit: integer(env, 'RATE_LIMIT_MAX', 10, 1, 1_000_000),
      windowMs: integer(env, 'RATE_LIMIT_WINDOW_MS', 60_000, 1, 86_400_000),
    },
    health: {
      intervalMs: integer(env, 'HEALTH_INTERVAL_MS', 60_000, 1000, 86_400_000),
      detailToken: text(env, 'HEALTH_TOKEN'),
    },
    shutdown: {
      readinessDelayMs: integer(env, 'SHUTDOWN_READINESS_DELAY_MS', 5000, 0, 300_000),
      deadlineMs: integer(env, 'SHUTDOWN_DEADLINE_MS', 10_000, 100, 600_000),
    },
    outboxPollMs: integer(env, 'OUTBOX_POLL_MS', 1000, 10, 60_000),
  };
}
