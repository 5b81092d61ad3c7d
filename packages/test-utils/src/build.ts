import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Builds the package or app at `root` (tsdown, as `pnpm build` does) when `dist/<entry>` is missing
 * or older than a source file under `src/` (test files aside), for tests that run what was built: a
 * child process, a service started as `node dist/main.js`. Never rebuilds a fresh `dist/`: other
 * test tasks may import it meanwhile, and a rebuild empties it first.
 */
export function buildIfStale(root: string, entry: string): void {
  const built = join(root, 'dist', entry);
  const newestSource = Math.max(
    ...readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
      .map((file) => statSync(join(root, 'src', file)).mtimeMs),
  );
  if (existsSync(built) && statSync(built).mtimeMs >= newestSource) return;
  execFileSync('pnpm', ['exec', 'tsdown', '--log-level', 'error'], { cwd: root, stdio: 'inherit' });
}
