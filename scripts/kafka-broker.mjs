// A single-node Apache Kafka broker (KRaft, broker and controller in one process) for the tests
// and benchmarks, from the jars that scripts/kafka/pom.xml names (resolved with Maven into ~/.m2).
// Used by scripts/kafka.mjs (the CLI) and by the fault tests, which start private brokers on free
// ports and restart them.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = join(dirname(fileURLToPath(import.meta.url)), 'kafka');
const pom = join(here, 'pom.xml');

/** The broker version the pom pins. */
export const kafkaVersion = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(readFileSync(pom, 'utf8'))?.[1] ?? '?';

/** Where the broker on `port` keeps its pid file, log and data unless told otherwise. */
export function defaultBrokerDir(port = 9092) {
  return join(tmpdir(), `infra-kafka-${port}`);
}

class KafkaBrokerError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'KafkaBrokerError';
  }
}

function java() {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

/** Fails with a clear message unless Java 17 or newer runs. */
function checkJava() {
  const probe = spawnSync(java(), ['-version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) {
    throw new KafkaBrokerError(
      `Java is needed to run the Kafka broker, and "${java()}" does not run (${probe.error?.message ?? probe.stderr.trim()}). ` +
        'Install a JDK 17 or newer, or set JAVA_HOME.',
    );
  }
  const major = Number(/version "(?:1\.)?(\d+)/.exec(probe.stderr)?.[1] ?? 0);
  if (major < 17)
    throw new KafkaBrokerError(`Kafka ${kafkaVersion} needs Java 17 or newer; "${java()}" is Java ${major}`);
}

/**
 * The broker's classpath: the jars of the pom, resolved by Maven (downloaded once into ~/.m2).
 * Cached per pom content, and checked: a classpath whose jars were removed is resolved again.
 */
export function resolveClasspath({ log = () => {} } = {}) {
  const cacheDir = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'infra-kafka');
  const key = createHash('sha1').update(readFileSync(pom)).digest('hex').slice(0, 12);
  const file = join(cacheDir, `classpath-${key}.txt`);
  if (existsSync(file)) {
    const cached = readFileSync(file, 'utf8').trim();
    if (cached && cached.split(':').every((jar) => existsSync(jar))) return cached;
  }
  mkdirSync(cacheDir, { recursive: true });
  log(`resolving Kafka ${kafkaVersion} jars with Maven (cached in ~/.m2 after the first time)`);
  const mvn = spawnSync(
    'mvn',
    ['-B', '-q', '-f', pom, 'dependency:build-classpath', '-Dmdep.includeScope=runtime', `-Dmdep.outputFile=${file}`],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (mvn.error) {
    throw new KafkaBrokerError(`Maven ("mvn") is needed to fetch the Kafka broker jars: ${mvn.error.message}`);
  }
  if (mvn.status !== 0 || !existsSync(file)) {
    throw new KafkaBrokerError(
      `Maven could not resolve Kafka ${kafkaVersion} from ${pom}:\n${(mvn.stdout + mvn.stderr).trim().slice(-2000)}`,
    );
  }
  return readFileSync(file, 'utf8').trim();
}

/** Resolves true when a Kafka broker answers an ApiVersions request on `port` within `timeoutMs`. */
export function brokerAnswers(port, host = '127.0.0.1', timeoutMs = 2000) {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    const done = (answer) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('error', () => done(false));
    socket.once('connect', () => {
      // ApiVersions v0: size, api key 18, version 0, correlation id, client id.
      const clientId = Buffer.from('infra-probe');
      const request = Buffer.alloc(4 + 2 + 2 + 4 + 2 + clientId.length);
      request.writeInt32BE(request.length - 4, 0);
      request.writeInt16BE(18, 4);
      request.writeInt16BE(0, 6);
      request.writeInt32BE(7, 8);
      request.writeInt16BE(clientId.length, 12);
      clientId.copy(request, 14);
      socket.write(request);
    });
    let received = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      // size (4), correlation id (4), error code (2)
      if (received.length >= 10) done(received.readInt32BE(4) === 7 && received.readInt16BE(8) === 0);
    });
  });
}

function readPid(dir) {
  const file = join(dir, 'broker.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

function alive(pid) {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function serverProperties({ port, controllerPort, dataDir }) {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    'auto.create.topics.enable=true',
    'num.partitions=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=10',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // A single-node test broker: start consumer groups at once instead of waiting 3 s for members.
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

/** Status of the broker kept in `dir`: its pid if its process runs, and whether it answers. */
export async function brokerStatus({ port = 9092, dir = defaultBrokerDir(port) } = {}) {
  const pid = readPid(dir);
  const running = alive(pid);
  return { pid: running ? pid : undefined, running, answers: await brokerAnswers(port), port, dir };
}

/**
 * Starts a broker on 127.0.0.1:`port` (controller on `controllerPort`) keeping its state in `dir`,
 * and resolves once it answers. Idempotent: a broker that already answers there is left running.
 * The storage is formatted on the first start; `fresh: true` wipes and formats it again.
 */
export async function startBroker({
  port = 9092,
  controllerPort = port + 1,
  dir = defaultBrokerDir(port),
  fresh = false,
  timeoutMs = 180_000,
  heap = '512m',
  log = () => {},
} = {}) {
  const bootstrap = `127.0.0.1:${port}`;
  const pid = readPid(dir);
  if (alive(pid) && (await waitUntilAnswers(port, pid, Math.min(timeoutMs, 60_000)))) {
    return { bootstrap, pid, dir, started: false };
  }
  if (await brokerAnswers(port)) {
    log(`a Kafka broker already answers at ${bootstrap} (not started by this script); using it`);
    return { bootstrap, pid: undefined, dir, started: false };
  }
  checkJava();
  const classpath = resolveClasspath({ log });
  const dataDir = join(dir, 'data');
  if (fresh) rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const properties = join(dir, 'server.properties');
  writeFileSync(properties, serverProperties({ port, controllerPort, dataDir }));
  const javaArgs = ['-cp', classpath, `-Dlog4j2.configurationFile=${join(here, 'log4j2.properties')}`];
  if (!existsSync(join(dataDir, 'meta.properties'))) {
    const format = spawnSync(
      java(),
      [...javaArgs, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId()}`, '-c', properties],
      { encoding: 'utf8' },
    );
    if (format.status !== 0) {
      throw new KafkaBrokerError(
        `Formatting the Kafka storage in ${dataDir} failed:\n${format.stdout}${format.stderr}`,
      );
    }
  }
  const logFile = join(dir, 'broker.log');
  const out = openSync(logFile, 'a');
  const child = spawn(
    java(),
    [`-Xmx${heap}`, `-Xms${heap}`, '-XX:+UseSerialGC', ...javaArgs, 'kafka.Kafka', properties],
    {
      detached: true,
      stdio: ['ignore', out, out],
    },
  );
  closeSync(out);
  child.unref();
  writeFileSync(join(dir, 'broker.pid'), `${child.pid}\n`);
  log(`starting Kafka ${kafkaVersion} on ${bootstrap} (pid ${child.pid}, log ${logFile})`);
  if (!(await waitUntilAnswers(port, child.pid, timeoutMs))) {
    const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-30).join('\n') : '';
    await stopBroker({ port, dir, keepData: true });
    throw new KafkaBrokerError(
      `The Kafka broker did not answer at ${bootstrap} within ${timeoutMs} ms. Its log ends:\n${tail}`,
    );
  }
  return { bootstrap, pid: child.pid, dir, started: true };
}

/** Polls until the broker answers, or its process exits, or `timeoutMs` passes. */
async function waitUntilAnswers(port, pid, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await brokerAnswers(port)) return true;
    if (!alive(pid)) return false;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return false;
}

/** A cluster id in the form StorageTool expects: 16 random bytes, URL-safe base64 without padding. */
function clusterId() {
  return Buffer.from(randomUUID().replaceAll('-', ''), 'hex').toString('base64url');
}

/**
 * Stops the broker kept in `dir`: SIGTERM (a controlled shutdown), SIGKILL when it has not exited
 * within `timeoutMs`, or at once with `signal: 'SIGKILL'` (a crash). Removes the data unless
 * `keepData`. Resolves once the process is gone; does nothing when none runs.
 */
export async function stopBroker({
  port = 9092,
  dir = defaultBrokerDir(port),
  keepData = false,
  signal = 'SIGTERM',
  timeoutMs = 30_000,
} = {}) {
  const pid = readPid(dir);
  let stopped = false;
  if (alive(pid)) {
    process.kill(pid, signal);
    const deadline = Date.now() + timeoutMs;
    while (alive(pid) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (alive(pid)) process.kill(pid, 'SIGKILL');
    while (alive(pid)) await new Promise((resolve) => setTimeout(resolve, 50));
    stopped = true;
  }
  rmSync(join(dir, 'broker.pid'), { force: true });
  if (!keepData) rmSync(dir, { recursive: true, force: true });
  return { stopped, pid };
}
