import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverPort } from '../services.js';
import { ServerProcess } from './processes.js';

/** A redis-server of a test's own, which the test may kill, restart or pause. */
export interface PrivateRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Pid of the running server, or undefined while it is down. */
  readonly pid: number | undefined;
  /** SIGKILL: the server dies at once, connections drop, everything in memory is lost. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty (it keeps nothing on disk): a failover or a flush. */
  restart(): Promise<void>;
  /** SIGSTOP: connections stay open but nothing answers, as on a stalled host. */
  pause(): void;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Stops the server for good and removes its directory. */
  close(): Promise<void>;
}

export interface PrivateRedisOptions {
  /**
   * Starts the server as a one-node Redis Cluster owning all 16384 slots, for tests of code that
   * talks to a cluster (an ioredis `Cluster` on {@link PrivateRedis.port}). @default false
   */
  cluster?: boolean;
}

/**
 * Starts `redis-server` on a free port, keeping nothing on disk, for fault tests. Never use the
 * shared Redis for faults: other work on the machine uses it.
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'infra-redis-'));
  const port = await serverPort();
  const pidFile = join(dir, 'redis.pid');
  const server = new ServerProcess(dir);

  const start = async (): Promise<void> => {
    rmSync(pidFile, { force: true });
    const result = spawnSync(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'yes',
        '--pidfile',
        pidFile,
        '--dir',
        dir,
        '--logfile',
        join(dir, 'redis.log'),
        ...(options.cluster
          ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-announce-ip', '127.0.0.1']
          : []),
      ],
      { encoding: 'utf8' },
    );
    if (result.error) throw new Error(`redis-server could not be started: ${result.error.message}`);
    if (result.status !== 0) throw new Error(`redis-server exited with ${result.status}: ${result.stderr}`);
    const deadline = Date.now() + 30_000;
    while (!(existsSync(pidFile) && (await answers(port)))) {
      if (Date.now() > deadline) throw new Error(`private redis-server on port ${port} did not answer within 30 s`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    server.started(Number(readFileSync(pidFile, 'utf8').trim()));
    if (options.cluster) await ownAllSlots(port, deadline);
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return server.pid;
    },
    kill: () => server.kill(),
    restart: async () => {
      await server.kill();
      await start();
    },
    pause: () => {
      server.pause();
    },
    resume: () => {
      server.resume();
    },
    close: () => server.close(),
  };
}

/** Gives the one node every slot (kept in its nodes.conf across restarts) and waits for `cluster_state:ok`. */
async function ownAllSlots(port: number, deadline: number): Promise<void> {
  const info = await command(port, 'CLUSTER INFO');
  if (!info.includes('cluster_slots_assigned:16384')) {
    const reply = await command(port, 'CLUSTER ADDSLOTSRANGE 0 16383');
    if (!reply.startsWith('+OK')) throw new Error(`CLUSTER ADDSLOTSRANGE failed on port ${port}: ${reply}`);
  }
  while (!(await command(port, 'CLUSTER INFO')).includes('cluster_state:ok')) {
    if (Date.now() > deadline) throw new Error(`private redis cluster on port ${port} was not ok within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Sends one inline command and returns the raw reply (enough for status and bulk string replies). */
async function command(port: number, line: string): Promise<string> {
  const { connect } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let reply = '';
    socket.once('error', reject);
    socket.once('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (data) => {
      reply += data.toString();
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      if (!bulk || reply.length >= bulk[0].length + Number(bulk[1]) + 2) {
        socket.destroy();
        resolve(reply);
      }
    });
  });
}

async function answers(port: number): Promise<boolean> {
  const { connect } = await import('node:net');
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('error', () => {
      done(false);
    });
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      done(data.toString().startsWith('+PONG'));
    });
  });
}
