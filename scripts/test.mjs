#!/usr/bin/env node
// node scripts/test.mjs [--task=test:faults] [turbo args]
//
// What `npm test` runs (after installing the workspace); `pnpm test:faults` runs only the fault
// tests the same way, with the same servers.
//
// Runs every package's tests with turbo (at most three at a time) after making sure the servers
// they talk to are there:
//   - Postgres (127.0.0.1:5432, database "test") and Redis (127.0.0.1:6379): started with the
//     machine's own commands when they do not answer and the commands exist;
//   - a Kafka broker: KAFKA_BROKERS when set, otherwise one started with scripts/kafka-broker.mjs
//     (Java 17+ and Maven) and stopped again at the end (KEEP_KAFKA=1 keeps it running);
//   - RabbitMQ and NATS with JetStream: RABBITMQ_URL and NATS_SERVERS when set, otherwise the local
//     servers (127.0.0.1:5672 as guest, 127.0.0.1:4222) when they answer; their tests skip otherwise.
// Whatever cannot be had is said plainly, with the reason, before and after the run. With
// INFRA_REQUIRE_KAFKA=1 (CI) a missing broker fails the run instead of skipping the Kafka tests, and
// INFRA_REQUIRE_RABBITMQ=1 / INFRA_REQUIRE_NATS=1 do the same for RabbitMQ and NATS.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brokerAnswers, kafkaVersion, startBroker, stopBroker } from './kafka-broker.mjs';

const say = (line) => process.stdout.write(`test: ${line}\n`);
const notes = [];

/** Resolves with the first bytes a server sends back for `request`, or '' when it cannot. */
function ask(port, request, timeoutMs = 2000) {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = () => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, done);
    socket.once('error', done);
    socket.once('connect', () => socket.write(request));
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1');
      done();
    });
  });
}

// The AMQP 0-9-1 protocol header: a RabbitMQ server answers with a Connection.Start method frame (type 1).
const rabbitMqAnswers = async () => (await ask(5672, 'AMQP\x00\x00\x09\x01')).startsWith('\x01');
// A NATS server greets every connection with INFO; JetStream is on when it says so.
const natsAnswers = async () => /^INFO .*"jetstream":true/.test(await ask(4222, ''));
const redisAnswers = async () => (await ask(6379, 'PING\r\n')).startsWith('+PONG');
// An SSLRequest: every Postgres server answers it with one byte, S or N.
const postgresAnswers = async () => /^[SN]/.test(await ask(5432, Buffer.from([0, 0, 0, 8, 4, 210, 22, 47])));

const onPath = (command) => spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;

async function waitFor(check, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return false;
}

/** Makes sure a server answers, starting it with `start` (a command line) when one is available. */
async function ensure(name, answers, start) {
  if (await answers()) return say(`${name} answers`);
  if (!start) {
    notes.push(`${name} does not answer and cannot be started here: the tests that use it fail`);
    return say(notes.at(-1));
  }
  say(`${name} does not answer: starting it with: ${start.join(' ')}`);
  spawnSync(start[0], start.slice(1), { stdio: 'inherit' });
  if (await waitFor(answers, 30_000)) return say(`${name} answers`);
  notes.push(`${name} could not be started (${start.join(' ')}): the tests that use it fail`);
  say(notes.at(-1));
}

function postgresStart() {
  if (!onPath('pg_ctlcluster') || !existsSync('/etc/postgresql')) return undefined;
  const version = readdirSync('/etc/postgresql').sort().at(-1);
  return version ? ['pg_ctlcluster', '--skip-systemctl-redirect', version, 'main', 'start'] : undefined;
}

function redisStart() {
  if (!onPath('redis-server')) return undefined;
  const dir = join(tmpdir(), 'infra-redis-6379');
  mkdirSync(dir, { recursive: true });
  return ['redis-server', '--daemonize', 'yes', '--bind', '127.0.0.1', '--port', '6379', '--save', '', '--dir', dir];
}

await ensure('Postgres at 127.0.0.1:5432', postgresAnswers, postgresStart());
await ensure('Redis at 127.0.0.1:6379', redisAnswers, redisStart());

const env = { ...process.env };
let startedKafka = false;
let kafkaSkipped;
if (env.KAFKA_BROKERS) {
  say(`Kafka: using KAFKA_BROKERS=${env.KAFKA_BROKERS}`);
} else if (await brokerAnswers(9092)) {
  env.KAFKA_BROKERS = '127.0.0.1:9092';
  say('Kafka: a broker answers at 127.0.0.1:9092; the Kafka tests use it');
} else if (!onPath('java') || !onPath('mvn')) {
  kafkaSkipped = 'Java 17+ and Maven are needed to start a local broker (or set KAFKA_BROKERS)';
} else {
  say(`Kafka: starting a local Kafka ${kafkaVersion} broker (the first start downloads its jars)`);
  try {
    const broker = await startBroker({ log: (line) => say(`Kafka: ${line}`) });
    env.KAFKA_BROKERS = broker.bootstrap;
    startedKafka = broker.started;
  } catch (error) {
    kafkaSkipped = `the local broker did not start: ${error instanceof Error ? error.message : String(error)}`;
  }
}
if (kafkaSkipped) {
  if (env.INFRA_REQUIRE_KAFKA === '1') {
    process.stderr.write(`test: INFRA_REQUIRE_KAFKA=1 and no Kafka broker: ${kafkaSkipped}\n`);
    process.exit(1);
  }
  notes.push(`SKIPPED the Kafka tests of @infra/messaging: ${kafkaSkipped}`);
  say(notes.at(-1));
}

/** Uses `variable` when set, else the local server when it answers; skips (or fails, when required) otherwise. */
async function optionalServer({ name, variable, require, local, answers, what }) {
  if (env[variable]) return say(`${name}: using ${variable}=${env[variable].replace(/\/\/[^@/]*@/, '//…@')}`);
  if (await answers()) {
    env[variable] = local;
    return say(`${name}: the local server answers; ${what} use it`);
  }
  const reason = `${name} does not answer on its local port (set ${variable} to use another one)`;
  if (env[require] === '1') {
    process.stderr.write(`test: ${require}=1 and ${reason}\n`);
    process.exit(1);
  }
  notes.push(`SKIPPED ${what}: ${reason}`);
  say(notes.at(-1));
}

await optionalServer({
  name: 'RabbitMQ',
  variable: 'RABBITMQ_URL',
  require: 'INFRA_REQUIRE_RABBITMQ',
  local: 'amqp://guest:guest@127.0.0.1:5672',
  answers: rabbitMqAnswers,
  what: 'the RabbitMQ tests of @infra/messaging',
});
await optionalServer({
  name: 'NATS',
  variable: 'NATS_SERVERS',
  require: 'INFRA_REQUIRE_NATS',
  local: '127.0.0.1:4222',
  answers: natsAnswers,
  what: 'the NATS JetStream tests of @infra/messaging',
});

const task = process.argv.find((arg) => arg.startsWith('--task='))?.slice('--task='.length) ?? 'test';
const turboArgs = process.argv.slice(2).filter((arg) => !arg.startsWith('--task='));
const concurrency = task === 'test' ? 3 : 2;
const args = ['exec', 'turbo', 'run', task, '--continue', `--concurrency=${concurrency}`, ...turboArgs];
say(`pnpm ${args.join(' ')}`);
const child = spawn('pnpm', args, { stdio: 'inherit', env, shell: process.platform === 'win32' });
const stopChild = (signal) => child.kill(signal);
process.on('SIGINT', stopChild);
process.on('SIGTERM', stopChild);
const status = await new Promise((resolve) => {
  child.once('error', (error) => {
    process.stderr.write(`test: cannot run pnpm: ${error.message}\n`);
    resolve(127);
  });
  child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
});

if (startedKafka && env.KEEP_KAFKA !== '1') {
  say('Kafka: stopping the broker this run started (KEEP_KAFKA=1 keeps it)');
  await stopBroker();
}
for (const note of notes) say(note);
say(status === 0 ? 'all test tasks passed' : `test tasks failed (exit ${status})`);
process.exit(status);
