import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, signal, startReaper } from './processes.js';

const wait = { timeout: 15_000, interval: 20 };
const started: ChildProcess[] = [];

/** A stand-in server: `sleep`, the leader of a process group of its own, as the private servers are. */
function server(): { child: ChildProcess; pid: number; exited: Promise<NodeJS.Signals | null> } {
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  started.push(child);
  const exited = new Promise<NodeJS.Signals | null>((resolve) => {
    child.once('exit', (_code, name) => {
      resolve(name);
    });
  });
  if (child.pid === undefined) throw new Error('sleep did not start');
  return { child, pid: child.pid, exited };
}

function directory(): string {
  const dir = mkdtempSync(join(tmpdir(), 'infra-reaper-test-'));
  writeFileSync(join(dir, 'data'), 'x');
  return dir;
}

afterEach(() => {
  for (const child of started.splice(0)) if (child.pid !== undefined) signal(-child.pid, 'SIGKILL');
});

describe('startReaper', () => {
  it('kills the process group it watches last and removes the directory once the pipe closes unreleased', async () => {
    const dir = directory();
    const replaced = server();
    const current = server();
    const reaper = startReaper(dir);
    // A restart: the reaper follows the server that runs now.
    reaper.watch(-replaced.pid);
    reaper.watch(-current.pid);
    reaper.abandon();
    expect(await current.exited).toBe('SIGKILL');
    await expect.poll(() => existsSync(dir), wait).toBe(false);
    await expect.poll(() => isAlive(reaper.pid ?? 0), wait).toBe(false);
    expect(replaced.child.exitCode).toBeNull();
    expect(replaced.child.signalCode).toBeNull();
  });

  it('ends nothing and leaves the directory once released, or while no server runs', async () => {
    const released = { dir: directory(), server: server() };
    const reaper = startReaper(released.dir);
    reaper.watch(-released.server.pid);
    reaper.release();
    const idle = { dir: directory(), server: server() };
    const watching = startReaper(idle.dir);
    watching.watch(-idle.server.pid);
    // The server was killed by its test: nothing runs now.
    watching.watch(undefined);
    watching.abandon();
    await expect.poll(() => isAlive(reaper.pid ?? 0) || isAlive(watching.pid ?? 0), wait).toBe(false);
    expect(existsSync(released.dir)).toBe(true);
    rmSync(released.dir, { recursive: true, force: true });
    expect(released.server.child.signalCode).toBeNull();
    // Abandoned with nothing to kill: the directory still goes.
    expect(existsSync(idle.dir)).toBe(false);
    expect(idle.server.child.signalCode).toBeNull();
  });
});
