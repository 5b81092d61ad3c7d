import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverPort } from '../services.js';
import { signal, startReaper } from './processes.js';

/** A Postgres server of a test's own, which the test may kill and restart. */
export interface PrivatePostgres {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` (trust authentication). */
  readonly url: string;
  /** Pid of the running postmaster, or undefined while it is down. */
  readonly pid: number | undefined;
  /**
   * SIGKILL to the postmaster and every backend at once, as a crashed host: connections drop, and
   * what was committed survives (the next start replays the write-ahead log).
   */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory (crash recovery included). */
  restart(): Promise<void>;
  /** Stops the server for good and removes its data directory. */
  close(): Promise<void>;
}

/** The directory of the newest Postgres server binaries installed here, or undefined. */
function serverBinaries(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const version = readdirSync(root)
    .filter((name) => existsSync(join(root, name, 'bin', 'initdb')))
    .sort((a, b) => Number(a) - Number(b))
    .at(-1);
  return version === undefined ? undefined : join(root, version, 'bin');
}

/** Whether this machine can run a private Postgres (its server binaries are installed). */
export function canStartPrivatePostgres(): boolean {
  return serverBinaries() !== undefined;
}

/**
 * Starts a Postgres server on a free port with a fresh data directory, for fault tests that kill
 * and restart the server; never the shared one. Postgres refuses to run as root: as root, it runs
 * as the `postgres` user. `fsync=off` makes it quick; a SIGKILL of the server (not of the machine)
 * still loses nothing committed.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = serverBinaries();
  if (bin === undefined) throw new Error('no Postgres server binaries under /usr/lib/postgresql: install postgresql');
  // As root, the server and initdb run as the postgres user (Postgres refuses root).
  const user: { uid?: number; gid?: number } = process.getuid?.() === 0 ? postgresUser() : {};
  const dir = mkdtempSync(join(tmpdir(), 'infra-postgres-'));
  const data = join(dir, 'data');
  if (user.uid !== undefined && user.gid !== undefined) chownSync(dir, user.uid, user.gid);
  chmodSync(dir, 0o700);

  const init = spawnSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8'], {
    encoding: 'utf8',
    cwd: dir,
    ...user,
  });
  if (init.error) throw new Error(`initdb could not run: ${init.error.message}`);
  if (init.status !== 0) throw new Error(`initdb exited with ${String(init.status)}: ${init.stderr}`);

  const port = await serverPort();
  const logFile = join(dir, 'postgres.log');
  const reaper = startReaper(dir);
  let server: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    const args = [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      dir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'max_connections=100',
    ];
    // A process group of its own, so that kill() reaches the backends too.
    const out = openSync(logFile, 'w');
    const child = spawn(join(bin, 'postgres'), args, {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: dir,
      ...user,
    });
    closeSync(out);
    server = child;
    if (child.pid !== undefined) reaper.watch(-child.pid);
    const deadline = Date.now() + 60_000;
    while (!(await ready(bin, port))) {
      if (child.exitCode !== null)
        throw new Error(
          `private postgres on port ${port} exited with ${child.exitCode}:\n${readFileSync(logFile, 'utf8').slice(-2000)}`,
        );
      if (Date.now() > deadline) throw new Error(`private postgres on port ${port} did not answer within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const kill = async (): Promise<void> => {
    const dying = server;
    if (dying?.pid === undefined) return;
    server = undefined;
    if (dying.exitCode === null && dying.signalCode === null) {
      const exited = new Promise((resolve) => dying.once('exit', resolve));
      signal(-dying.pid, 'SIGKILL');
      await exited;
    }
    reaper.watch(undefined);
  };

  await start();
  return {
    port,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    get pid() {
      return server?.pid;
    },
    kill,
    restart: async () => {
      await kill();
      await start();
    },
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
      reaper.release();
    },
  };
}

/** Whether the server on `port` accepts connections (past its startup and crash recovery). */
function ready(bin: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-t', '2'], (error) => {
      resolve(error === null);
    });
  });
}

function postgresUser(): { uid: number; gid: number } {
  const result = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const group = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  const uid = Number(result.stdout.trim());
  const gid = Number(group.stdout.trim());
  if (result.status !== 0 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new Error('running as root, and there is no postgres user to run a private Postgres server as');
  }
  return { uid, gid };
}
