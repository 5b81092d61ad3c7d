// The README block that shows a package's runnable example: the first fenced `js` block after the
// line `<!-- example: examples/<package>/index.mjs -->`.

const fence = '```';

/** The marker line that precedes the example block in packages/<name>/README.md. */
export const marker = (name) => `<!-- example: examples/${name}/index.mjs -->`;

function blockAfterMarker(readme, name) {
  const at = readme.indexOf(marker(name));
  if (at === -1) return undefined;
  const open = readme.indexOf(`${fence}js\n`, at);
  if (open === -1) return undefined;
  const start = open + `${fence}js\n`.length;
  const close = readme.indexOf(`\n${fence}`, start - 1);
  if (close === -1) return undefined;
  return { start, end: close + 1 };
}

/** The example as the README shows it, or undefined when the README has no marked block. */
export function readmeExample(readme, name) {
  const block = blockAfterMarker(readme, name);
  return block && readme.slice(block.start, block.end);
}

/** The README with its marked block replaced by `example` (a missing block is an error). */
export function withReadmeExample(readme, name, example) {
  const block = blockAfterMarker(readme, name);
  if (!block) throw new Error(`no "${marker(name)}" line followed by a js block`);
  return readme.slice(0, block.start) + example + readme.slice(block.end);
}
