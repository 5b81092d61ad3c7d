import { randomBytes } from 'node:crypto';

/** Redis used by tests: `REDIS_URL`, else the local server. */
export const redisUrl: string = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Postgres used by tests: `DATABASE_URL`, else the local server's `test` database. */
export const databaseUrl: string = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A prefix unique to this test run, for Redis keys, Postgres schemas and topic names, so that
 * two runs (or two test files) never see each other's data. Lowercase letters, digits and `_`.
 */
export function uniqueName(label: string): string {
  return `t_${label.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

/** A port on which nothing listens (bound, then released), for "service down" tests. */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => {
        resolve(port);
      });
    });
  });
}

/**
 * A free port for a private server that a test kills and starts again on the same port: below the
 * kernel's ephemeral range (`ip_local_port_range`), so that no outgoing connection of another test
 * takes the port while the server is down (a port from {@link closedPort} can be, and the restart
 * then fails with "address in use").
 */
export async function serverPort(): Promise<number> {
  const { readFileSync } = await import('node:fs');
  let ephemeralLow = 32768;
  try {
    ephemeralLow = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    // Not Linux: the common default.
  }
  const low = 10_000;
  const high = ephemeralLow - 1;
  if (!(high > low + 1000)) return closedPort();
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = low + Math.floor(Math.random() * (high - low));
    if (await canListen(port)) return port;
  }
  return closedPort();
}

async function canListen(port: number): Promise<boolean> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () => {
      server.close(() => {
        resolve(true);
      });
    });
  });
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`Condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * The address of an optional server the tests use, from its variable, or `undefined` when it is not
 * set: the caller skips its tests, and this says so on the console, naming `what` was skipped. When
 * `require` is `1` (CI sets it) a missing server is a failure instead: it throws, which fails the
 * test file that asked. `npm test` sets the variables for the servers that answer.
 */
function optionalServer(variable: string, require: string, server: string, what: string): string | undefined {
  const value = process.env[variable]?.trim();
  if (value) return value;
  if (process.env[require] === '1')
    throw new Error(`${require}=1 but ${variable} is not set: ${what} cannot run (and must not skip)`);
  console.log(`SKIPPED ${what}: no ${server} (set ${variable}, or run them with npm test)`);
  return undefined;
}

/** The Kafka brokers the tests use (`KAFKA_BROKERS`, `host:port,…`); `INFRA_REQUIRE_KAFKA=1` makes them required. */
export function kafkaBrokers(what: string): string | undefined {
  return optionalServer('KAFKA_BROKERS', 'INFRA_REQUIRE_KAFKA', 'Kafka broker', what);
}

/** The RabbitMQ server the tests use (`RABBITMQ_URL`, `amqp://…`); `INFRA_REQUIRE_RABBITMQ=1` makes it required. */
export function rabbitMqUrl(what: string): string | undefined {
  return optionalServer('RABBITMQ_URL', 'INFRA_REQUIRE_RABBITMQ', 'RabbitMQ server', what);
}

/** The NATS servers the tests use (`NATS_SERVERS`, `host:port,…`, JetStream on); `INFRA_REQUIRE_NATS=1` requires it. */
export function natsServers(what: string): string | undefined {
  return optionalServer('NATS_SERVERS', 'INFRA_REQUIRE_NATS', 'NATS server with JetStream', what);
}
