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
