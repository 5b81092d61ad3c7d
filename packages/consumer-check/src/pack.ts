import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { outputTail, runCommand } from './run-command.js';

/** A tarball made by `pnpm pack`. */
export interface PackedTarball {
  readonly name: string;
  readonly version: string;
  /** Absolute path of the .tgz file. */
  readonly file: string;
}

// The pnpm running the tests (npm_execpath), so the check packs with the workspace's pinned
// version; `pnpm` from PATH when the tests run some other way.
function pnpmCommand(): [string, string[]] {
  const execPath = process.env.npm_execpath;
  if (execPath !== undefined && /pnpm\.c?js$/.test(basename(execPath))) return [process.execPath, [execPath]];
  return ['pnpm', []];
}

function parseReport(stdout: string, where: string): PackedTarball[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stdout);
  } catch (error) {
    throw new Error(`pnpm pack in ${where} printed no JSON report: ${stdout.slice(0, 500)}`, { cause: error });
  }
  const reports = (Array.isArray(parsed) ? parsed : [parsed]) as {
    name?: unknown;
    version?: unknown;
    filename?: unknown;
  }[];
  return reports.map(({ name, version, filename }) => {
    if (
      typeof name !== 'string' ||
      typeof version !== 'string' ||
      typeof filename !== 'string' ||
      !existsSync(filename)
    ) {
      throw new Error(`pnpm pack in ${where} reported no tarball: ${stdout.slice(0, 500)}`);
    }
    return { name, version, file: filename };
  });
}

async function pnpmPack(cwd: string, args: readonly string[], destination: string): Promise<PackedTarball[]> {
  if (!existsSync(destination)) throw new TypeError(`pack: destination ${destination} does not exist`);
  const [command, prefix] = pnpmCommand();
  const result = await runCommand(command, [...prefix, ...args, 'pack', '--pack-destination', destination, '--json'], {
    cwd,
  });
  if (result.code !== 0) throw new Error(`pnpm ${args.join(' ')} pack failed in ${cwd}:\n${outputTail(result)}`);
  return parseReport(result.stdout, cwd);
}

/**
 * Packs the package in `dir` with `pnpm pack` (which rewrites `workspace:` ranges to real
 * versions, as `pnpm publish` does) into `destination`.
 */
export async function packPackage(dir: string, destination: string): Promise<PackedTarball> {
  if (!existsSync(join(dir, 'package.json'))) throw new TypeError(`packPackage: ${dir} holds no package.json`);
  const [tarball] = await pnpmPack(dir, [], destination);
  if (tarball === undefined) throw new Error(`pnpm pack in ${dir} made no tarball`);
  return tarball;
}

/** Packs the named workspace packages with one `pnpm -r pack` run, into `destination`. */
export async function packWorkspacePackages(
  root: string,
  names: readonly string[],
  destination: string,
): Promise<PackedTarball[]> {
  if (names.length === 0) throw new TypeError('packWorkspacePackages: no package names given');
  const tarballs = await pnpmPack(root, ['-r', ...names.flatMap((name) => ['--filter', name])], destination);
  const missing = names.filter((name) => !tarballs.some((tarball) => tarball.name === name));
  if (missing.length > 0) throw new Error(`pnpm -r pack made no tarball for ${missing.join(', ')}`);
  return tarballs;
}
