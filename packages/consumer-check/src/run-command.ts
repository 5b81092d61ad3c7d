import { spawn } from 'node:child_process';

/** What a finished command left behind. */
export interface CommandResult {
  /** Exit code, or null when the process was killed. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the process was killed for running past `timeoutMs`. */
  readonly timedOut: boolean;
}

/** Options of {@link runCommand}. */
export interface RunCommandOptions {
  /** Working directory of the command. */
  readonly cwd: string;
  /**
   * Kill the command (SIGKILL) after this many milliseconds.
   * @default 120000
   */
  readonly timeoutMs?: number;
  /**
   * Variables added to (or, when `undefined`, removed from) the inherited environment.
   * @default {}
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

// Settings that describe the machine (where the registry is, how to reach it) and stay valid
// for a consumer project; every other `npm_config_*` comes from the workspace's own .npmrc.
const machineSettings = new Set([
  'registry',
  'cafile',
  'ca',
  'cache',
  'userconfig',
  'proxy',
  'https_proxy',
  'noproxy',
  'strict_ssl',
  'nodedir',
]);

// pnpm exports the workspace's configuration (and `npm_package_*` of the running script) to the
// test process; a consumer project must see the user's configuration, as a real consumer would.
function inherited(key: string): boolean {
  const lower = key.toLowerCase();
  if (lower.startsWith('npm_config_')) return machineSettings.has(lower.slice('npm_config_'.length));
  return !/^npm_(package|lifecycle)_/.test(lower) && lower !== 'npm_execpath' && lower !== 'npm_command';
}

function childEnv(extra: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv {
  const entries = [
    ...Object.entries(process.env).filter(([key]) => inherited(key) && !(key in extra)),
    ...Object.entries(extra),
  ];
  return Object.fromEntries(entries.filter((entry): entry is [string, string] => entry[1] !== undefined));
}

/**
 * Runs a command without a shell and collects its output. Never rejects for a non-zero exit:
 * callers turn the result into a finding that names what failed.
 */
export function runCommand(
  command: string,
  args: readonly string[],
  options: RunCommandOptions,
): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new RangeError(`runCommand: timeoutMs must be a positive number, got ${String(timeoutMs)}`);
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...args], {
      cwd: options.cwd,
      env: childEnv(options.env ?? {}),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    timer.unref();
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`Cannot run ${command}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        timedOut,
      });
    });
  });
}

/** The last lines of a command's output, enough to explain a failure without flooding a report. */
export function outputTail(result: CommandResult, lines = 25): string {
  const text = `${result.stderr}\n${result.stdout}`.trim();
  const all = text.split('\n');
  return all.length <= lines ? text : ['…', ...all.slice(-lines)].join('\n');
}
