#!/usr/bin/env node
// Copies each examples/<package>/index.mjs into packages/<package>/README.md, into the js block
// after `<!-- example: examples/<package>/index.mjs -->`. The examples' tests fail while the two
// differ.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withReadmeExample } from './readme-examples.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
for (const name of readdirSync(join(root, 'examples')).sort()) {
  const example = join(root, 'examples', name, 'index.mjs');
  const readmePath = join(root, 'packages', name, 'README.md');
  if (!existsSync(example) || !existsSync(readmePath)) continue;
  const readme = readFileSync(readmePath, 'utf8');
  const next = withReadmeExample(readme, name, readFileSync(example, 'utf8'));
  if (next !== readme) {
    writeFileSync(readmePath, next);
    console.log(`packages/${name}/README.md: example updated from examples/${name}/index.mjs`);
  }
}
