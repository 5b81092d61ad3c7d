/** One importable subpath of a package, as a consumer would write it. */
export interface SubpathEntry {
  /** Key in the exports map: `.`, `./redis`, or a wildcard key expanded to a concrete subpath. */
  readonly subpath: string;
  /** What a consumer imports: `@infra/resilience`, `@infra/resilience/redis`. */
  readonly specifier: string;
  /** File Node loads for `import` (relative to the package root, `./` prefixed), if any. */
  readonly importTarget: string | undefined;
  /**
   * File TypeScript reads under `moduleResolution: NodeNext` for an `import`: the `types`
   * condition, or the declaration file beside the JavaScript target.
   */
  readonly typesTarget: string | undefined;
}

// Conditions Node uses for `import` from ESM, and those TypeScript adds for declarations.
const nodeImportConditions = new Set(['node', 'import', 'default']);
const typesImportConditions = new Set(['types', 'node', 'import', 'default']);

function resolveTarget(target: unknown, conditions: ReadonlySet<string>): string | null | undefined {
  if (target === null) return null;
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const fallback of target) {
      const resolved = resolveTarget(fallback, conditions);
      if (typeof resolved === 'string') return resolved;
    }
    return undefined;
  }
  if (typeof target === 'object') {
    for (const [condition, value] of Object.entries(target)) {
      if (!conditions.has(condition)) continue;
      const resolved = resolveTarget(value, conditions);
      if (resolved !== undefined) return resolved;
    }
  }
  return undefined;
}

function siblingDeclaration(file: string): string | undefined {
  if (file.endsWith('.mjs')) return `${file.slice(0, -4)}.d.mts`;
  if (file.endsWith('.cjs')) return `${file.slice(0, -4)}.d.cts`;
  if (file.endsWith('.js')) return `${file.slice(0, -3)}.d.ts`;
  return undefined;
}

function isSubpathMap(exports: object): boolean {
  const keys = Object.keys(exports);
  const dotted = keys.filter((key) => key.startsWith('.'));
  if (dotted.length > 0 && dotted.length !== keys.length) {
    throw new TypeError(`exports map mixes subpaths and conditions: ${keys.join(', ')}`);
  }
  return dotted.length > 0;
}

function specifierOf(packageName: string, subpath: string): string {
  return subpath === '.' ? packageName : `${packageName}/${subpath.slice(2)}`;
}

function entryFor(packageName: string, subpath: string, target: unknown): SubpathEntry {
  const importTarget = resolveTarget(target, nodeImportConditions) ?? undefined;
  const declared = resolveTarget(target, typesImportConditions) ?? undefined;
  let typesTarget: string | undefined;
  if (declared !== undefined) typesTarget = /\.d\.[cm]?ts$/.test(declared) ? declared : siblingDeclaration(declared);
  return { subpath, specifier: specifierOf(packageName, subpath), importTarget, typesTarget };
}

function substitute(target: unknown, match: string): unknown {
  if (typeof target === 'string') return target.replaceAll('*', match);
  if (Array.isArray(target)) return target.map((item: unknown) => substitute(item, match));
  if (typeof target === 'object' && target !== null) {
    return Object.fromEntries(Object.entries(target).map(([key, value]) => [key, substitute(value, match)]));
  }
  return target;
}

// A wildcard key (`./drivers/*`) names every packed file its target pattern matches.
function expandWildcard(packageName: string, key: string, target: unknown, files: readonly string[]): SubpathEntry[] {
  const pattern = resolveTarget(target, nodeImportConditions);
  if (typeof pattern !== 'string') return [];
  const star = pattern.indexOf('*');
  const prefix = pattern.slice(0, star).replace(/^\.\//, '');
  const suffix = pattern.slice(star + 1);
  const keyStar = key.indexOf('*');
  const entries: SubpathEntry[] = [];
  for (const file of files) {
    if (!file.startsWith(prefix) || !file.endsWith(suffix) || file.length < prefix.length + suffix.length) continue;
    const match = file.slice(prefix.length, file.length - suffix.length);
    const subpath = `${key.slice(0, keyStar)}${match}${key.slice(keyStar + 1)}`;
    entries.push(entryFor(packageName, subpath, substitute(target, match)));
  }
  return entries;
}

/**
 * Lists every subpath a consumer can import from a package, expanding wildcard keys against the
 * packed `files` (paths relative to the package root, without `./`). Keys mapped to `null` are
 * left out, as Node refuses them.
 */
export function listSubpaths(packageName: string, exports: unknown, files: readonly string[]): SubpathEntry[] {
  if (typeof packageName !== 'string' || packageName.length === 0) {
    throw new TypeError(`listSubpaths: packageName must be a non-empty string, got ${JSON.stringify(packageName)}`);
  }
  if (exports === undefined || exports === null) {
    throw new TypeError(`${packageName} has no "exports" map: consumers could deep-import any file`);
  }
  if (typeof exports === 'string' || Array.isArray(exports) || typeof exports !== 'object' || !isSubpathMap(exports)) {
    return [entryFor(packageName, '.', exports)];
  }
  const entries = new Map<string, SubpathEntry>();
  const excluded: string[] = [];
  for (const [key, target] of Object.entries(exports)) {
    if (target === null) {
      excluded.push(key);
      continue;
    }
    const expanded = key.includes('*')
      ? expandWildcard(packageName, key, target, files)
      : [entryFor(packageName, key, target)];
    for (const entry of expanded) entries.set(entry.subpath, entry);
  }
  for (const key of excluded) {
    const star = key.indexOf('*');
    for (const subpath of [...entries.keys()]) {
      const hit =
        star === -1 ? subpath === key : subpath.startsWith(key.slice(0, star)) && subpath.endsWith(key.slice(star + 1));
      if (hit) entries.delete(subpath);
    }
  }
  return [...entries.values()];
}

/** True for subpaths that hold data rather than a module (`./package.json`). */
export function isDataSubpath(entry: SubpathEntry): boolean {
  return entry.importTarget?.endsWith('.json') === true;
}
