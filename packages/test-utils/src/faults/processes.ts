import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Socket } from 'node:net';

/** Sends `name` to `pid`, if it is still there. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // already gone
  }
}

/** Whether a process `pid` exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGKILL (after SIGCONT, in case it was paused), then waits until `pid` is gone. */
export async function killAndWait(pid: number): Promise<void> {
  signal(pid, 'SIGCONT');
  signal(pid, 'SIGKILL');
  while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 10));
}

/**
 * The one process of a private server kept in `dir` (a server that is not a process group): its pid
 * while it runs, watched by a {@link Reaper}.
 */
export class ServerProcess {
  private current: number | undefined;
  private readonly reaper: Reaper;

  constructor(private readonly dir: string) {
    this.reaper = startReaper(dir);
  }

  get pid(): number | undefined {
    return this.current;
  }

  /** The server now runs as `pid`. */
  started(pid: number | undefined): void {
    this.current = pid;
    this.reaper.watch(pid);
  }

  /** SIGKILL, then waits until the process is gone (see {@link killAndWait}). */
  async kill(): Promise<void> {
    const dying = this.current;
    if (dying === undefined) return;
    this.current = undefined;
    await killAndWait(dying);
    this.reaper.watch(undefined);
  }

  pause(): void {
    if (this.current !== undefined) signal(this.current, 'SIGSTOP');
  }

  resume(): void {
    if (this.current !== undefined) signal(this.current, 'SIGCONT');
  }

  /** Kills the server for good and removes its directory. */
  async close(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
    this.reaper.release();
  }
}

/**
 * Ends a private server with the test process, however that process ends (a failure, a timeout, a
 * SIGTERM or SIGKILL from a runner): a small detached Node process holds the read end of a pipe from
 * this one. The operating system closes the pipe when this process dies; the reaper then SIGKILLs
 * the server it was last told about and removes the server's directory. An `exit` hook would not run
 * on a signal.
 */
export interface Reaper {
  /** The reaper's own process. */
  readonly pid: number | undefined;
  /** The server now running: a pid, or a process group as `-pgid`; `undefined` while none runs. */
  watch(target: number | undefined): void;
  /** The server was closed by its owner: the reaper leaves, ending nothing. */
  release(): void;
  /** Closes the pipe without a release, as this process's death does (for tests of the reaper). */
  abandon(): void;
}

/** The reaper's program: reads targets (one a line) until `release`, or reaps on end of input. */
const REAPER = `
const { rmSync } = require('node:fs');
const dir = process.argv[1];
let target = 0;
let pending = '';
const reap = () => {
  for (const name of ['SIGCONT', 'SIGKILL']) {
    try { if (target !== 0) process.kill(target, name); } catch {}
  }
  try { rmSync(dir, { recursive: true, force: true }); } catch {}
  process.exit(0);
};
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  for (let end = pending.indexOf('\\n'); end >= 0; end = pending.indexOf('\\n')) {
    const line = pending.slice(0, end);
    pending = pending.slice(end + 1);
    if (line === 'release') process.exit(0);
    target = Number(line) || 0;
  }
});
process.stdin.on('end', reap);
process.stdin.on('error', reap);
`;

/** Starts the {@link Reaper} of a server kept in `dir` (removed when it reaps). */
export function startReaper(dir: string): Reaper {
  // Detached: a Ctrl-C to the terminal's process group must not end the reaper before its server.
  const child = spawn(process.execPath, ['-e', REAPER, dir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  const pipe = child.stdin;
  // Neither the reaper nor its pipe keeps this process alive.
  child.unref();
  if (pipe instanceof Socket) pipe.unref();
  pipe.on('error', () => undefined);
  let open = true;
  const send = (line: string): void => {
    if (open) pipe.write(`${line}\n`);
  };
  return {
    pid: child.pid,
    watch: (target) => {
      send(String(target ?? 0));
    },
    release: () => {
      send('release');
      open = false;
      pipe.end();
    },
    abandon: () => {
      open = false;
      pipe.end();
    },
  };
}
