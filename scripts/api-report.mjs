#!/usr/bin/env node
// node scripts/api-report.mjs [--check] [package…]
//
// Writes the public API of every published package, one report per entry point of its "exports"
// map, to packages/<name>/api/<entry>.api.md with API Extractor, from the built declarations
// (run `pnpm build` first). The reports are committed, so a pull request shows every change to a
// public API as a diff. `--check` (CI) fails when a report differs from what is committed.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const check = args.includes('--check');
const only = new Set(args.filter((arg) => !arg.startsWith('--')));

const packages = readdirSync(join(root, 'packages'))
  .map((dir) => join(root, 'packages', dir))
  .filter((dir) => existsSync(join(dir, 'package.json')))
  .map((dir) => ({ dir, manifest: JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) }))
  .filter(({ manifest }) => !manifest.private)
  .filter(
    ({ dir, manifest }) =>
      only.size === 0 || only.has(manifest.name) || only.has(relative(join(root, 'packages'), dir)),
  );

/** `{ entry: 'redis', types: 'dist/redis/index.d.ts' }` for each entry point with declarations. */
function entryPoints(manifest) {
  return Object.entries(manifest.exports ?? {})
    .filter(([key, target]) => key !== './package.json' && typeof target === 'object' && target?.types)
    .map(([key, target]) => ({
      entry: key === '.' ? 'index' : key.slice(2).replaceAll('/', '-'),
      types: target.types,
    }));
}

let changed = 0;
let failed = 0;
for (const { dir, manifest } of packages) {
  const reportFolder = join(dir, 'api');
  const wanted = new Set();
  for (const { entry, types } of entryPoints(manifest)) {
    const mainEntryPointFilePath = join(dir, types);
    if (!existsSync(mainEntryPointFilePath)) {
      console.error(`${manifest.name}: ${types} is missing: run pnpm build first`);
      failed += 1;
      continue;
    }
    const reportFileName = `${entry}.api.md`;
    wanted.add(reportFileName);
    const tempFolder = join(dir, '.api-extractor');
    mkdirSync(reportFolder, { recursive: true });
    const config = ExtractorConfig.prepare({
      configObject: {
        projectFolder: dir,
        mainEntryPointFilePath,
        bundledPackages: [],
        compiler: {
          overrideTsconfig: {
            // The declarations were type-checked by `pnpm typecheck`; a dependency's own .d.ts (PGlite's
            // needs @types/emscripten) is not this report's business.
            compilerOptions: {
              target: 'ES2022',
              module: 'NodeNext',
              moduleResolution: 'NodeNext',
              types: ['node'],
              skipLibCheck: true,
            },
            files: [mainEntryPointFilePath],
          },
        },
        apiReport: { enabled: true, reportFileName, reportFolder, reportTempFolder: tempFolder },
        docModel: { enabled: false },
        dtsRollup: { enabled: false },
        tsdocMetadata: { enabled: false },
        messages: {
          // The reports are for reviewing changes, not a lint: missing release tags, forgotten
          // exports of referenced types and TSDoc style are not errors here.
          extractorMessageReporting: {
            default: { logLevel: 'none' },
            'ae-missing-release-tag': { logLevel: 'none' },
            'ae-forgotten-export': { logLevel: 'none', addToApiReportFile: true },
          },
          tsdocMessageReporting: { default: { logLevel: 'none' } },
          compilerMessageReporting: { default: { logLevel: 'warning' } },
        },
      },
      configObjectFullPath: join(dir, 'api-extractor.json'),
      packageJsonFullPath: join(dir, 'package.json'),
    });
    const result = Extractor.invoke(config, { localBuild: !check, showVerboseMessages: false, messageCallback: quiet });
    rmSync(tempFolder, { recursive: true, force: true });
    if (!result.succeeded) {
      failed += 1;
      console.error(
        `${manifest.name} (${entry}): API Extractor failed (${result.errorCount} errors, ${result.warningCount} warnings)`,
      );
    } else if (result.apiReportChanged) {
      changed += 1;
      console.log(
        check
          ? `${manifest.name} (${entry}): the public API differs from api/${reportFileName}: run pnpm api:report and commit it`
          : `${manifest.name} (${entry}): api/${reportFileName} updated`,
      );
    }
  }
  // Reports of entry points that no longer exist.
  if (existsSync(reportFolder)) {
    for (const file of readdirSync(reportFolder)) {
      if (file.endsWith('.api.md') && !wanted.has(file)) {
        changed += 1;
        if (check) console.log(`${manifest.name}: api/${file} reports an entry point that is gone`);
        else rmSync(join(reportFolder, file));
      }
    }
  }
}

/** Keeps API Extractor's own progress lines out of the output; errors still count in the result. */
function quiet(message) {
  message.handled = message.logLevel !== 'error' && message.logLevel !== 'warning';
}

if (failed > 0) process.exit(1);
if (check && changed > 0) process.exit(1);
console.log(
  check ? `api reports: ${packages.length} packages match their committed reports` : `api reports: ${changed} updated`,
);
