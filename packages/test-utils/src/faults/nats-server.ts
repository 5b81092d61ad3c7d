import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverPort } from '../services.js';
import { ServerProcess, isAlive } from './processes.js';

/** A nats-server with JetStream of a test's own, which the test may kill, restart or pause. */
export interface PrivateNats {
  readonly port: number;
  /** `127.0.0.1:<port>`, for a client's `servers`. */
  readonly servers: string;
  /** Pid of the running server, or undefined while it is down. */
  readonly pid: number | undefined;
  /** Where JetStream keeps its streams (kept across `restart()` unless `wipeStorage`). */
  readonly storeDir: string;
  /** SIGKILL: the server dies at once and connections drop; what it stored on disk stays. */
  kill(): Promise<void>;
  /**
   * Kills it (if running) and starts it again on the same port. With `wipeStorage`, its JetStream
   * storage is deleted first: every stream and consumer is lost, as on a replaced host.
   */
  restart(options?: { wipeStorage?: boolean }): Promise<void>;
  /**
   * SIGSTOP: connections stay open but nothing answers, as on a stalled host. Resolves once the
   * process is stopped (a signal takes effect asynchronously).
   */
  pause(): Promise<void>;
  /** SIGCONT after `pause`. */
  resume(): void;
  /** Stops the server for good and removes its directory. */
  close(): Promise<void>;
}

export interface PrivateNatsOptions {
  /** The server binary. @default '/usr/sbin/nats-server' when it exists, else 'nats-server' from PATH */
  binary?: string;
}

/**
 * Starts `nats-server -js` on a free port with its storage in a directory of its own, for fault
 * tests. Never use the shared NATS server for faults: other work on the machine uses it.
 */
export async function startPrivateNats(options: PrivateNatsOptions = {}): Promise<PrivateNats> {
  const binary = options.binary ?? (existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server');
  const dir = mkdtempSync(join(tmpdir(), 'infra-nats-'));
  const storeDir = join(dir, 'jetstream');
  const logFile = join(dir, 'nats.log');
  const port = await serverPort();
  const server = new ServerProcess(dir);

  const start = async (): Promise<void> => {
    rmSync(logFile, { force: true });
    const child = spawn(
      binary,
      [
        '-a',
        '127.0.0.1',
        '-p',
        String(port),
        '-js',
        '-sd',
        storeDir,
        '-l',
        logFile,
        '--server_name',
        `private-${port}`,
      ],
      { stdio: 'ignore' },
    );
    child.unref();
    server.started(child.pid);
    const failed = new Promise<Error>((resolve) => {
      child.once('error', resolve);
      child.once('exit', (code) => {
        resolve(new Error(`nats-server on port ${port} exited with ${String(code)}`));
      });
    });
    let failure: Error | undefined;
    void failed.then((error) => {
      failure = error;
    });
    const deadline = Date.now() + 30_000;
    // "Server is ready" is logged once the client port listens and JetStream has loaded its streams.
    while (!(existsSync(logFile) && readFileSync(logFile, 'utf8').includes('Server is ready'))) {
      if (failure) throw failure;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`private nats-server on port ${port} was not ready within 30 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };

  await start();
  return {
    port,
    servers: `127.0.0.1:${port}`,
    storeDir,
    get pid() {
      return server.pid;
    },
    kill: () => server.kill(),
    restart: async ({ wipeStorage = false } = {}) => {
      await server.kill();
      if (wipeStorage) rmSync(storeDir, { recursive: true, force: true });
      await start();
    },
    pause: async () => {
      const { pid } = server;
      if (pid === undefined) return;
      server.pause();
      while (isAlive(pid) && !isStopped(pid)) await new Promise((resolve) => setTimeout(resolve, 5));
    },
    resume: () => {
      server.resume();
    },
    close: () => server.close(),
  };
}

/** State `T` (stopped) in /proc; true where /proc cannot tell. */
function isStopped(pid: number): boolean {
  try {
    return /^\d+ \(.*\) T /.test(readFileSync(`/proc/${String(pid)}/stat`, 'utf8'));
  } catch {
    return true;
  }
}
