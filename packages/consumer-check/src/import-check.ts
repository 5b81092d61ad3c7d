import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { outputTail, runCommand } from './run-command.js';

/** Outcome of importing one specifier from plain Node ESM. */
export type ImportOutcome =
  | { readonly specifier: string; readonly ok: true; readonly exports: readonly string[] }
  | { readonly specifier: string; readonly ok: false; readonly error: string };

/** What the import probe saw in a consumer project. */
export interface ImportProbeResult {
  /** Optional peers that resolve from the project although none was installed. */
  readonly resolvablePeers: readonly string[];
  readonly outcomes: readonly ImportOutcome[];
  /** Set when the probe did not report or did not exit; names the reason. */
  readonly failure: string | undefined;
}

// Runs inside the consumer project, so bare specifiers resolve from its node_modules exactly as
// a consumer's code would. It reports and then returns: a handle opened at import time (a ref'd
// timer, a socket) keeps the process alive, and the caller's timeout reports that.
const probeSource = `
const [specifiers, peers] = JSON.parse(process.argv[2]);
const resolvablePeers = [];
for (const peer of peers) {
  try {
    import.meta.resolve(peer);
    resolvablePeers.push(peer);
  } catch {}
}
const outcomes = [];
for (const specifier of specifiers) {
  try {
    const namespace = await import(specifier);
    outcomes.push({ specifier, ok: true, exports: Object.keys(namespace) });
  } catch (error) {
    const message = error instanceof Error ? (error.code ? error.code + ': ' : '') + error.message : String(error);
    outcomes.push({ specifier, ok: false, error: message });
  }
}
process.stdout.write('\\n@@probe ' + JSON.stringify({ resolvablePeers, outcomes }) + '\\n');
`;

/** Options of {@link probeImports}. */
export interface ProbeImportsOptions {
  /**
   * How long the probe may take, imports and exit included.
   * @default 30000
   */
  readonly timeoutMs?: number;
}

/**
 * Imports every specifier with `node` from `projectDir` (one process, in order) and checks that
 * none of `peers` resolves there, which would make a missing-peer check meaningless.
 */
export async function probeImports(
  projectDir: string,
  specifiers: readonly string[],
  peers: readonly string[],
  options: ProbeImportsOptions = {},
): Promise<ImportProbeResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const script = join(projectDir, 'import-probe.mjs');
  await writeFile(script, probeSource);
  const result = await runCommand(process.execPath, [script, JSON.stringify([specifiers, peers])], {
    cwd: projectDir,
    timeoutMs,
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith('@@probe '));
  if (line === undefined) {
    const why = result.timedOut ? `did not finish within ${timeoutMs} ms` : `exited with code ${String(result.code)}`;
    return { resolvablePeers: [], outcomes: [], failure: `the import probe ${why}:\n${outputTail(result)}` };
  }
  const report = JSON.parse(line.slice('@@probe '.length)) as Omit<ImportProbeResult, 'failure'>;
  const failure = result.timedOut
    ? `importing left the process running for ${timeoutMs} ms: something opened at import time (a timer or a socket) keeps the event loop alive`
    : result.code === 0
      ? undefined
      : `the import probe exited with code ${String(result.code)}:\n${outputTail(result)}`;
  return { ...report, failure };
}
