import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort } from '../services.js';

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

/**
 * Starts `redis-server` on a free port, keeping nothing on disk, for fault tests. Never use the
 * shared Redis for faults: other work on the machine uses it.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'infra-redis-'));
  const port = await closedPort();
  const pidFile = join(dir, 'redis.pid');
  let pid: number | undefined;

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
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  };

  const kill = async (): Promise<void> => {
    if (pid === undefined) return;
    const dying = pid;
    pid = undefined;
    signal(dying, 'SIGCONT');
    signal(dying, 'SIGKILL');
    while (isAlive(dying)) await new Promise((resolve) => setTimeout(resolve, 10));
  };

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid() {
      return pid;
    },
    kill,
    restart: async () => {
      await kill();
      await start();
    },
    pause: () => {
      if (pid !== undefined) signal(pid, 'SIGSTOP');
    },
    resume: () => {
      if (pid !== undefined) signal(pid, 'SIGCONT');
    },
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
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
