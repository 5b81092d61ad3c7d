// Runs the examples of the package whose directory this is called from (`pnpm test` in
// examples/<package>/): every .mjs file with plain Node, each of which must exit 0 within two
// minutes, and checks that the package README's first example is a copy of index.mjs
// (`node scripts/sync-readme-examples.mjs` rewrites it).
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readmeExample } from '../scripts/readme-examples.mjs';

const dir = process.cwd();
const name = basename(dir);
const files = readdirSync(dir)
  .filter((file) => file.endsWith('.mjs'))
  .sort();
const failures = [];
for (const file of files) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [file], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
  const took = ((performance.now() - started) / 1000).toFixed(1);
  process.stdout.write(`--- examples/${name}/${file} (${took}s, exit ${result.status ?? result.signal})\n`);
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  if (result.status !== 0) failures.push(`${file} exited with ${result.status ?? result.signal}`);
}

const readme = readFileSync(join(dir, '..', '..', 'packages', name, 'README.md'), 'utf8');
const example = readFileSync(join(dir, 'index.mjs'), 'utf8');
const shown = readmeExample(readme, name);
if (shown === undefined)
  failures.push(`packages/${name}/README.md has no example block for examples/${name}/index.mjs`);
else if (shown !== example) {
  failures.push(
    `packages/${name}/README.md shows an example that differs from examples/${name}/index.mjs: ` +
      'run node scripts/sync-readme-examples.mjs',
  );
}

if (failures.length > 0) {
  process.stderr.write(`examples/${name}: ${failures.join('; ')}\n`);
  process.exit(1);
}
process.stdout.write(`examples/${name}: ${files.length} example(s) ran; the README shows index.mjs\n`);
