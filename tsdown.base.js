// @ts-check
// The build every workspace package shares; each package's tsdown.config.js is this one call.
// Unbundled: one output file per source file at the same dist/ path tsc used to write, so the
// exports maps keep pointing at real files. Declarations come from Oxc's isolated declarations
// (the sources compile under isolatedDeclarations), with tsconfig.build.json's stripInternal.
// tsdown stays on 0.21.x: later lines need Node 22, and the workspace builds on Node 20.19 too.
import { defineConfig } from 'tsdown';

/**
 * @param {{ declarations?: boolean }} [options] `declarations: false` for an application (the demo).
 */
export function buildConfig({ declarations = true } = {}) {
  return defineConfig({
    entry: ['src/**/*.ts', '!src/**/*.test.ts', '!src/**/*.test-d.ts'],
    unbundle: true,
    format: 'esm',
    platform: 'node',
    fixedExtension: false,
    tsconfig: 'tsconfig.build.json',
    dts: declarations,
    sourcemap: false,
    clean: true,
    hash: false,
    report: false,
    // Rolldown's "plugins took long" notice measures wall time, which says more about a busy
    // machine than about the build.
    checks: { pluginTimings: false },
  });
}
