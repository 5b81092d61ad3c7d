import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { serverPort } from '../services.js';
import { startReaper } from './processes.js';

/** A RabbitMQ node of a test's own, which the test may kill, restart or pause. */
export interface PrivateRabbitMq {
  readonly port: number;
  /** `amqp://guest:guest@127.0.0.1:<port>` */
  readonly url: string;
  /** Pid of the running node's process group, or undefined while it is down. */
  readonly pid: number | undefined;
  /** SIGKILL to the whole node: it dies at once and connections drop; what it had on disk stays. */
  kill(): Promise<void>;
  /**
   * Starts it again on the same port, with what it had on disk (durable queues, persistent
   * messages it confirmed), or empty with `dataLost` (a node replaced by a new one).
   */
  restart(options?: { dataLost?: boolean }): Promise<void>;
  /** SIGSTOP: connections stay open but nothing answers, as on a stalled host. */
  pause(): void;
  /** Runs `rabbitmqctl` against this node (for example `set_vm_memory_high_watermark`); returns its output. */
  ctl(...args: string[]): string;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Stops the node for good and removes its directory. */
  close(): Promise<void>;
}

export interface PrivateRabbitMqOptions {
  /** How long a start may take before it counts as failed (ms). @default 60_000 */
  startTimeoutMs?: number;
}

/** The server script: `RABBITMQ_SERVER`, else the packaged one that runs as the calling user, else the PATH's. */
function serverScript(): string {
  const packaged = '/usr/lib/rabbitmq/bin/rabbitmq-server';
  return process.env.RABBITMQ_SERVER ?? (existsSync(packaged) ? packaged : 'rabbitmq-server');
}

/**
 * Starts a RabbitMQ node of its own (its node name, ports, data, logs, Erlang cookie and no plugins,
 * all under a temporary directory; none of the machine's RabbitMQ configuration) as a child
 * process, and resolves once it accepts AMQP connections. Never use the shared server for faults:
 * other work on the machine uses it. Needs `rabbitmq-server` (and Erlang) installed.
 */
export async function startPrivateRabbitMq(options: PrivateRabbitMqOptions = {}): Promise<PrivateRabbitMq> {
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), 'infra-rabbitmq-'));
  const port = await serverPort();
  let distPort = await serverPort();
  while (distPort === port) distPort = await serverPort();
  const node = `infra-test-${process.pid}-${randomBytes(3).toString('hex')}@localhost`;
  writeFileSync(join(dir, 'enabled_plugins'), '[].\n');
  // An environment file of its own, so that the machine's (which names the shared node) is not read.
  writeFileSync(join(dir, 'rabbitmq-env.conf'), 'ERL_EPMD_ADDRESS=127.0.0.1\n');
  let child: ChildProcess | undefined;
  let log = '';
  const reaper = startReaper(dir);

  const env = (): NodeJS.ProcessEnv => ({
    ...process.env,
    // The Erlang cookie is created under HOME: a private one keeps the node apart from the shared one.
    HOME: dir,
    RABBITMQ_NODENAME: node,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    // Files that do not exist: the node runs on defaults, not on the machine's configuration.
    RABBITMQ_CONFIG_FILE: join(dir, 'rabbitmq'),
    RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
    RABBITMQ_PID_FILE: join(dir, 'rabbitmq.pid'),
  });

  const start = async (): Promise<void> => {
    log = '';
    mkdirSync(join(dir, 'log'), { recursive: true });
    // A process group of its own: the script, the Erlang VM and its helpers are killed together.
    const started = spawn(serverScript(), [], { env: env(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    if (started.pid !== undefined) reaper.watch(-started.pid);
    const keep = (chunk: Buffer): void => {
      log = (log + chunk.toString()).slice(-4000);
    };
    started.stdout.on('data', keep);
    started.stderr.on('data', keep);
    let exited: string | undefined;
    started.once('error', (error) => (exited = error.message));
    started.once('exit', (code, signal) => (exited ??= `exited (${String(code ?? signal)})`));
    const deadline = Date.now() + startTimeoutMs;
    while (!(await answers(port))) {
      if (exited !== undefined) throw new Error(`private rabbitmq-server ${exited}:\n${log}`);
      if (Date.now() > deadline) {
        await kill();
        throw new Error(
          `private rabbitmq-server on port ${port} did not accept AMQP within ${startTimeoutMs} ms:\n${log}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const kill = async (): Promise<void> => {
    const running = child;
    child = undefined;
    if (running?.pid === undefined || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => {
      running.once('exit', () => {
        resolve();
      });
    });
    signalGroup(running.pid, 'SIGCONT');
    signalGroup(running.pid, 'SIGKILL');
    await exited;
    // The VM is the script's child, in the same group: wait until its port is free again.
    while (await answers(port)) await new Promise((resolve) => setTimeout(resolve, 50));
    reaper.watch(undefined);
  };

  await start();
  return {
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    get pid() {
      return child?.pid;
    },
    kill,
    restart: async ({ dataLost = false } = {}) => {
      await kill();
      if (dataLost) rmSync(join(dir, 'mnesia'), { recursive: true, force: true });
      await start();
    },
    pause: () => {
      if (child?.pid !== undefined) signalGroup(child.pid, 'SIGSTOP');
    },
    ctl: (...args) => {
      const script = serverScript();
      const ctl = script.includes('/') ? join(dirname(script), 'rabbitmqctl') : 'rabbitmqctl';
      return execFileSync(ctl, ['-n', node, ...args], { env: env(), encoding: 'utf8', timeout: 60_000 });
    },
    resume: () => {
      if (child?.pid !== undefined) signalGroup(child.pid, 'SIGCONT');
    },
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
      reaper.release();
    },
  };
}

function signalGroup(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pid, name);
  } catch {
    // already gone
  }
}

/** True when something accepts an AMQP handshake on the port (the node answers with its protocol header). */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => {
      done(false);
    });
    socket.once('error', () => {
      done(false);
    });
    socket.once('connect', () => {
      // An unsupported protocol header makes RabbitMQ answer with the one it speaks, then close.
      socket.write('AMQP\x00\x00\x00\x00');
    });
    socket.once('data', (chunk: Buffer) => {
      done(chunk.subarray(0, 4).toString() === 'AMQP');
    });
  });
}
